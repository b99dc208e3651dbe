// Package sinktest is the kit every sink's leak test uses: the secret shapes users write, every
// place a registered sink holds a secret, and a check that no significant part of a secret
// appears in a text (a log line, an error, a checkpoint, a request to another host).
package sinktest

import (
	"math/rand/v2"
	"strings"
)

// Shape is one secret value as users write it: with spaces, quotes, URL delimiters, unicode,
// very long, percent-encoded or not. Between its delimiters every shape holds runs of at least
// six letters and digits that appear nowhere else, so a fragment of it in an output is a leak
// and not a coincidence, however the output escapes the delimiters.
type Shape struct {
	Name  string
	Value string
}

// Shapes returns the secret shapes the leak tests put in every secret place.
func Shapes() []Shape {
	return []Shape{
		{"hex token", "a5c19f3e02feba7bd5dfc22bfb04afa2"},
		{"spaces", "Qzv8Kx 2mWpL9 tYh6Rd"},
		{"leading and trailing spaces", "  Wm8zJq3kYt  "},
		{"commas", "Jk4tWa,Wq9vZx,r7NdPo"},
		{"double quotes", `Hx3pVb"Vb8nQm"m2LkWs`},
		{"single quotes", "Tz6wRy'Ry5cMk'a1FsUe"},
		{"at signs", "Pq2mLx@Lx7vBn@k9HdRa"},
		{"slashes", "Wd5nQa/Qa8zCe/f3JtKo"},
		{"hashes", "Mb7kZs#Zs4xRw#u6VeNi"},
		{"stray percents", "Nc9pGy%Gy2wTq%i8LqBe"},
		{"plus signs", "Rf1sDh+Dh6mKu+o3WzPy"},
		{"semicolons", "Vg4xCj;Cj7nPt;e2BtMa"},
		{"colons", "Zc6mHk:Hk1pTs:Tr4wLe"},
		{"question marks", "Lt4cFw?Fw9kDo?Dm7yQs"},
		{"ampersand and equals", "Oi3nBv&Bv6qSe=Sx1hKw"},
		{"equals", "Pz4mWq=Wq8nGa=Gj2cRt"},
		{"backslashes", `Xa2vNy\Ny8jGu\Gq5bWe`},
		{"dollars", "Ab7cVn$Vn2xMo$Mk9pZa"},
		{"every delimiter", `Kd8rYw @/#%+;,"'& Yw3qHm`},
		{"chinese", "密码Xk7vQz秘密Lm4pWe"},
		{"accents", "pässwörtZq9HéRu5Kp"},
		{"emoji", "🔑Tb6yNk🔒Ws2dGh"},
		{"base64 with padding", "dXNlcjpQYXNzV29yZDEyMw=="},
		{"jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJoZXJhbGQifQ.Sg4Kp9Lw"},
		{"percent-encoded delimiters", "Hj5kRt%40Rt8vXn%2FXn3cBq%23Bq7dLs"},
		{"percent-encoded space and plus", "Uy7bGm%20Gm4sLa%2BLa9eWo"},
		{"percent-encoded unicode", "Ez5rPk%E5%AF%86Pk2wYc"},
		{"percent-encoded latin-1 (not UTF-8)", "Gt5wKsVb%E9Lp2dVxQa"},
		{"ampersand and a bad escape", "Hb3nMqTe&%80Zr8cJy=1"},
		{"control characters", "Qw3eRz\nt5yUiX\t7oPaK"},
		{"very long", long(600)},
	}
}

// long returns n letters and digits from a fixed seed: the same every run.
func long(n int) string {
	r := rand.New(rand.NewPCG(15, 2026))
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}
