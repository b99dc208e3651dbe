package sinks

import (
	"net/url"
	"testing"

	"github.com/heraldproject/herald/common/uri"
)

// TestStripParamsDropsAliases: a parameter herald read under an alias (a legacy spelling) is
// herald's, and must not reach the receiver any more than its main name; the receiver's own
// parameters stay.
func TestStripParamsDropsAliases(t *testing.T) {
	u, err := url.Parse("https://hooks.example.test/in?insecuressl=true&ca_file=/ca.pem&level=Warning&token=abc&v=2")
	if err != nil {
		t.Fatal(err)
	}
	spec := []uri.Param{
		{Name: "insecure_skip_verify", Aliases: []string{"insecuressl"}},
		{Name: "ca_file", Aliases: []string{"cacert"}},
	}
	got := StripParams(u, spec).Query()
	for _, gone := range []string{"insecuressl", "ca_file", "level"} {
		if got.Has(gone) {
			t.Errorf("%s reached the receiver: %s", gone, got.Encode())
		}
	}
	for _, kept := range []string{"token", "v"} {
		if !got.Has(kept) {
			t.Errorf("the receiver's own %s was removed: %s", kept, got.Encode())
		}
	}
}
