package ecosystem

import (
	"encoding/json"
	"testing"
)

func TestStripJSON(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"line comment", "{\"a\": 1 // one\n}", "{\"a\": 1       \n}"},
		{"block comment keeps lines", "{/* a\nb */\"a\": 1}", "{    \n    \"a\": 1}"},
		{"comment markers in strings", `{"url": "http://x/*y*/", "c": "//"}`, `{"url": "http://x/*y*/", "c": "//"}`},
		{"escaped quote", `{"q": "a\"//b"}`, `{"q": "a\"//b"}`},
		{"trailing comma in object", `{"a": 1,}`, `{"a": 1 }`},
		{"trailing comma in list", "[1, 2, // last\n]", "[1, 2         \n]"},
		{"trailing comma before comment", "[1,/* x */]", "[1        ]"},
		{"comma in a string", `["a,"]`, `["a,"]`},
		{"inner commas kept", `[1, 2, 3]`, `[1, 2, 3]`},
	} {
		got, err := stripJSON([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
		if len(got) != len(tc.in) {
			t.Errorf("%s: length changed", tc.name)
		}
	}
}

// The tree keeps keys in file order, the last of duplicates winning, as
// JavaScript does.
func TestDecodeJSONOrder(t *testing.T) {
	v, err := decodeJSON([]byte(`{"b": 1, "a": {"y": [1, "x", null, true], "x": 2.50}, "b": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := encodeJSON(v), `{"b":3,"a":{"y":[1,"x",null,true],"x":2.50}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestNumberText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"3000", "3000"},
		{"-0", "0"},
		{"1.0", "1"},
		{"2.50", "2.5"},
		{"1e3", "1000"},
		{"1e21", "1000000000000000000000"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
		{"0.1", "0.1"},
		{"0.000001", "0.000001"},
		{"1e-7", "1e-7"},
		{"1.5e-10", "1.5e-10"},
		{"-12.25", "-12.25"},
	} {
		if got := numberText(json.Number(tc.in)); got != tc.want {
			t.Errorf("numberText(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPosition(t *testing.T) {
	data := []byte("ab\ncd\n\nef")
	for _, tc := range []struct{ off, line, col int }{
		{0, 1, 1}, {1, 1, 2}, {2, 1, 3}, {3, 2, 1}, {7, 4, 1}, {9, 4, 3}, {100, 4, 3}, {-1, 1, 1},
	} {
		if l, c := position(data, tc.off); l != tc.line || c != tc.col {
			t.Errorf("position(%d) = %d:%d, want %d:%d", tc.off, l, c, tc.line, tc.col)
		}
	}
}

// YAML values of every scalar type become tree values.
func TestFromYAML(t *testing.T) {
	v, err := parseYAML("x.yaml", []byte("a: 1\nb: 1.5\nc: true\nd: ~\ne: .inf\nf: 2024-01-02T03:04:05Z\ng: 0x10\nh: [1, two]\n9: nine\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := encodeJSON(v), `{"9":"nine","a":1,"b":1.5,"c":true,"d":null,"e":null,"f":"2024-01-02T03:04:05Z","g":16,"h":[1,"two"]}`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
