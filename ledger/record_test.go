package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gowebpki/jcs"
)

// TestRFC8785Vectors pins the canonicalization this package relies on to
// the JCS test vectors of RFC 8785's author (Anders Rundgren,
// github.com/cyberphone/json-canonicalization, testdata/), as shipped in
// github.com/gowebpki/jcs@v1.0.2/testdata and copied to
// testdata/rfc8785. values.json is the example of RFC 8785, section 3.2.2.
func TestRFC8785Vectors(t *testing.T) {
	ins, err := filepath.Glob("testdata/rfc8785/input/*.json")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	for _, in := range ins {
		t.Run(filepath.Base(in), func(t *testing.T) {
			input, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata/rfc8785/output", filepath.Base(in)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := jcs.Transform(input)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestRFC8785Numbers pins ES6 number serialization (RFC 8785, section
// 3.2.2.3) with the IEEE 754 samples of gowebpki/jcs's es6numfmt_test.go.
// Records never hold floats, but their integers go through this path.
func TestRFC8785Numbers(t *testing.T) {
	for _, tc := range []struct{ hex, want string }{
		{"4340000000000001", "9007199254740994"},
		{"4340000000000002", "9007199254740996"},
		{"444b1ae4d6e2ef50", "1e+21"},
		{"3eb0c6f7a0b5ed8d", "0.000001"},
		{"3eb0c6f7a0b5ed8c", "9.999999999999997e-7"},
		{"8000000000000000", "0"},
		{"7fffffffffffffff", ""}, // NaN: an error
		{"7ff0000000000000", ""}, // Infinity: an error
	} {
		u, _ := strconv.ParseUint(tc.hex, 16, 64)
		got, err := jcs.NumberToJSON(math.Float64frombits(u))
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: got %q, want an error", tc.hex, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.hex, got, err, tc.want)
		}
	}
}

func TestRecordGolden(t *testing.T) {
	r := Record{
		Type: "vote.cast", Time: time.Date(2026, 11, 25, 15, 4, 5, 999, time.FixedZone("CET", 3600)),
		Principal: "https://example.org/members/ana", Channel: ChannelWeb,
		Subject: "https://example.org/proposals/7",
		Data: map[string]any{
			"voter": "sha256:00", "choice": 2, "weights": []int64{1, -3}, "note": "<é\u2028\n>",
			"nested": map[string]any{"b": true, "a": nil, "z": json.Number("12")}, "€": uint8(1), "\u00f6": "",
		},
		StateHash: "sha256:ff",
	}
	got, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"channel":"web","data":{"choice":2,"nested":{"a":null,"b":true,"z":12},"note":"<é` + "\u2028" + `\n>","voter":"sha256:00","weights":[1,-3],"ö":"","€":1},"principal":"https://example.org/members/ana","state":"sha256:ff","subject":"https://example.org/proposals/7","time":"2026-11-25T14:04:05Z","type":"vote.cast"}`
	if string(got) != want {
		t.Fatalf("Encode:\ngot  %s\nwant %s", got, want)
	}
	back, err := ParseRecord(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := back.Encode()
	if err != nil || !bytes.Equal(again, got) {
		t.Fatalf("re-encode: %s, %v", again, err)
	}
	if back.Time != time.Date(2026, 11, 25, 14, 4, 5, 0, time.UTC) {
		t.Errorf("time %v", back.Time)
	}
	if diff := cmp.Diff(map[string]any{"b": true, "a": nil, "z": int64(12)}, back.Data["nested"]); diff != "" {
		t.Errorf("nested data (-want +got):\n%s", diff)
	}
}

func TestRecordRules(t *testing.T) {
	ok := Record{Type: "member.admitted", Time: testTime, Principal: "admin", Channel: ChannelCLI}
	big := strings.Repeat("x", MaxRecordSize)
	for _, tc := range []struct {
		name string
		edit func(*Record)
		want error
	}{
		{"a float is refused", func(r *Record) { r.Data = map[string]any{"hours": 1.5} }, ErrFloat},
		{"an integral float is refused too", func(r *Record) { r.Data = map[string]any{"x": []any{float64(2)}} }, ErrFloat},
		{"a float32 deep down is refused", func(r *Record) { r.Data = map[string]any{"x": map[string]any{"y": []float32{1}}} }, ErrFloat},
		{"a json.Number with a fraction is refused", func(r *Record) { r.Data = map[string]any{"x": json.Number("1.0")} }, ErrFloat},
		{"a json.Number with an exponent is refused", func(r *Record) { r.Data = map[string]any{"x": json.Number("1e3")} }, ErrFloat},
		{"an integer beyond 2^53 is refused", func(r *Record) { r.Data = map[string]any{"x": int64(1) << 53} }, ErrIntRange},
		{"a large uint64 is refused", func(r *Record) { r.Data = map[string]any{"x": uint64(math.MaxUint64)} }, ErrIntRange},
		{"an unknown channel is refused", func(r *Record) { r.Channel = "email" }, ErrChannel},
		{"no type is refused", func(r *Record) { r.Type = "" }, ErrType},
		{"a zero time is refused", func(r *Record) { r.Time = time.Time{} }, ErrTime},
		{"invalid UTF-8 is refused", func(r *Record) { r.Subject = "\xff" }, ErrUTF8},
		{"a struct is refused", func(r *Record) { r.Data = map[string]any{"x": struct{}{}} }, ErrDataType},
		{"more than 65535 bytes is refused", func(r *Record) { r.Data = map[string]any{"text": big} }, ErrTooLarge},
		{"typed slices and maps are fine", func(r *Record) { r.Data = map[string]any{"ids": []string{"a"}, "n": map[string]int{"a": 1}} }, nil},
		{"2^53-1 is fine", func(r *Record) { r.Data = map[string]any{"x": int64(1)<<53 - 1, "y": -(int64(1)<<53 - 1)} }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			_, err := r.Encode()
			if !errors.Is(err, tc.want) {
				t.Errorf("Encode: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseRecordRefuses(t *testing.T) {
	good := `{"channel":"web","data":{},"principal":"p","state":"","subject":"s","time":"2026-11-25T14:00:00Z","type":"t"}`
	if _, err := ParseRecord([]byte(good)); err != nil {
		t.Fatalf("good record: %v", err)
	}
	for _, tc := range []struct {
		name, rec string
		want      error
	}{
		{"whitespace", strings.Replace(good, ":", ": ", 1), ErrNotCanon},
		{"trailing newline", good + "\n", ErrNotCanon},
		{"keys out of order", `{"data":{},"channel":"web","principal":"p","state":"","subject":"s","time":"2026-11-25T14:00:00Z","type":"t"}`, ErrNotCanon},
		{"escaped letter", strings.Replace(good, `"p"`, `"\u0070"`, 1), ErrNotCanon},
		{"a float", strings.Replace(good, `{}`, `{"x":1.5}`, 1), ErrFloat},
		{"a big number", strings.Replace(good, `{}`, `{"x":1e+21}`, 1), ErrFloat},
		{"beyond 2^53", strings.Replace(good, `{}`, `{"x":9007199254740992}`, 1), ErrIntRange},
		{"a missing member", strings.Replace(good, `"state":"",`, ``, 1), ErrMalformed},
		{"an extra member", strings.Replace(good, `"state":"",`, `"state":"","sub":"",`, 1), ErrMalformed},
		{"data not an object", strings.Replace(good, `{}`, `[]`, 1), ErrMalformed},
		{"a number for a string", strings.Replace(good, `"p"`, `1`, 1), ErrMalformed},
		{"an unknown channel", strings.Replace(good, `"web"`, `"fax"`, 1), ErrChannel},
		{"a time with fraction", strings.Replace(good, `00Z`, `00.5Z`, 1), ErrTime},
		{"a time with offset", strings.Replace(good, `14:00:00Z`, `15:00:00+01:00`, 1), ErrTime},
		{"not JSON", `{"a"`, ErrMalformed},
		{"not an object", `[]`, ErrMalformed},
		{"too large", `"` + strings.Repeat("a", MaxRecordSize) + `"`, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRecord([]byte(tc.rec))
			if !errors.Is(err, tc.want) {
				t.Errorf("ParseRecord: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestHashText(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2, appendix B.1.
	if got, want := HashText("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashText = %s, want %s", got, want)
	}
}
