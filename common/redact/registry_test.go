package redact

import "testing"

// Every registered secret, in its usual encodings, is scrubbed from any text; short ones are not
// (they would eat ordinary words), and nothing is scrubbed before anything is registered.
func TestScrubRegistered(t *testing.T) {
	if got := ScrubRegistered("nothing registered yet"); got != "nothing registered yet" {
		t.Fatalf("got %q", got)
	}
	Register(`p@ss/w:rd#1 ,"x`, "tok-Zq81-9f3A", "pod")
	for in, want := range map[string]string{
		`reply: Bearer tok-Zq81-9f3A for pod web-0`:  "reply: Bearer " + Placeholder + " for pod web-0",
		`url http://u:p%40ss%2Fw%3Ard%231+%2C%22x@h`: "url http://u:" + Placeholder + "@h",
		"basic " + "dTpwQHNzL3c6cmQjMSAsIng=":        "basic dTpwQHNzL3c6cmQjMSAsIng=", // base64 of u:... is not the secret's own
		"b64 cEBzcy93OnJkIzEgLCJ4":                   "b64 " + Placeholder,
	} {
		if got := ScrubRegistered(in); got != want {
			t.Errorf("ScrubRegistered(%q) = %q, want %q", in, got, want)
		}
	}
}
