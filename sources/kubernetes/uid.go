package kubernetes

import "k8s.io/apimachinery/pkg/types"

// uuidKey is a UID in its 16 raw bytes. API servers give objects UUIDs in canonical lowercase
// form; keeping those as 16 bytes instead of a 36-byte string (plus its header) roughly halves
// the memory each tracked event costs.
type uuidKey [16]byte

// uidKey identifies a tracked event: a compact UUID, or the UID as given when it is not one.
type uidKey struct {
	uuid  uuidKey
	other string // set only when the UID is not a canonical lowercase UUID
}

func keyOf(uid types.UID) uidKey {
	if k, ok := parseUUID(string(uid)); ok {
		return uidKey{uuid: k}
	}
	return uidKey{other: string(uid)}
}

// UID returns the UID the key was made from, exactly as it was given.
func (k uidKey) UID() types.UID {
	if k.other != "" {
		return types.UID(k.other)
	}
	return types.UID(k.uuid.String())
}

// parseUUID accepts only the canonical lowercase 8-4-4-4-12 form, so String gives back the very
// same text.
func parseUUID(s string) (uuidKey, bool) {
	var k uuidKey
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return k, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := hexVal(s[i])
		lo, ok2 := hexVal(s[i+1])
		if !ok1 || !ok2 {
			return k, false
		}
		k[j] = hi<<4 | lo
		j++
		i += 2
	}
	return k, true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func (k uuidKey) String() string {
	const digits = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, x := range k {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = digits[x>>4]
		b[j+1] = digits[x&0xf]
		j += 2
	}
	return string(b[:])
}
