package template

import (
	"fmt"
	"reflect"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	errorType       = reflect.TypeFor[error]()
	fmtStringerType = reflect.TypeFor[fmt.Stringer]()
)

// printString returns the text text/template writes for {{ v }}, so that a helper or the JSON
// escaper working on a value prints it exactly as a kube-eventer template would: pointers are
// followed (a nil pointer prints "<nil>"), a missing value prints "<no value>", and a value whose
// pointer has a String or Error method uses it. It mirrors text/template's printableValue; the
// one difference is a value that is not addressable in the template (a map element whose
// pointer type, but not the value type, has a String method), which text/template prints
// without the method. No field of an event is such a value.
func printString(v any) (string, error) {
	switch v := v.(type) { // the common cases, without reflection
	case string:
		return v, nil
	case metav1.Time:
		return v.String(), nil
	case fmt.Stringer, error:
		// fmt prints a nil pointer receiver as <nil>, as text/template does.
		return fmt.Sprint(v), nil
	case int32:
		return strconv.FormatInt(int64(v), 10), nil
	case int:
		return strconv.Itoa(v), nil
	case nil:
		// text/template hands a function an untyped nil for a missing map key or nil interface;
		// printed directly it would say <no value>.
		return "<no value>", nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
			if rv.IsNil() {
				return fmt.Sprint(rv.Interface()), nil
			}
			rv = rv.Elem()
		}
	}
	if !rv.Type().Implements(errorType) && !rv.Type().Implements(fmtStringerType) {
		if reflect.PointerTo(rv.Type()).Implements(errorType) || reflect.PointerTo(rv.Type()).Implements(fmtStringerType) {
			// text/template uses the pointer's method when the value is addressable, as every
			// field reached from the *core.Event is (corev1.ObjectReference prints as
			// &ObjectReference{Kind:Pod,...}). A function receives a copy, so take its address.
			if !rv.CanAddr() {
				p := reflect.New(rv.Type())
				p.Elem().Set(rv)
				rv = p.Elem()
			}
			rv = rv.Addr()
		} else if k := rv.Kind(); k == reflect.Chan || k == reflect.Func {
			return "", fmt.Errorf("can't print value of type %s", rv.Type())
		}
	}
	return fmt.Sprint(rv.Interface()), nil
}
