package capsule

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sample() *Capsule {
	return &Capsule{
		Source: "run", Protocol: "paxos", Bug: "no-persist", Scenario: "crash-restart", N: 3, Seed: 179,
		Options: map[string]string{"faults": "500ms", "clients": "2"}, Profile: "delay=2ms drop=0.05",
		Property: "agreement", Message: "n2 decided 501\nbut n1 decided 401", Event: 41,
		TraceHash: 0x7c61f945d5fa15ec, Choices: []int32{0, 1, 2, 3, 40, 0, 7, -1, 100000},
	}
}

func encode(t *testing.T, c *Capsule) []byte {
	var b bytes.Buffer
	if err := c.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	c := sample()
	for i := 0; i < 100; i++ { // several choice lines
		c.Choices = append(c.Choices, int32(i))
	}
	got, err := Decode(bytes.NewReader(encode(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	c.Message = "n2 decided 501 but n1 decided 401" // newlines fold into one line
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("round trip changed the capsule (-want +got):\n%s", diff)
	}
}

func TestDecodeRefusesDamagedCapsules(t *testing.T) {
	good := encode(t, sample())
	half := len(good) / 2
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"empty", nil, "not a replica capsule"},
		{"foreign file", []byte("hello world\n"), "not a replica capsule"},
		{"foreign version", bytes.Replace(good, []byte("replica-capsule 1"), []byte("replica-capsule 9"), 1), "version 9 is not supported"},
		{"truncated", good[:40], "truncated"},
		{"truncated before the checksum", good[:bytes.LastIndex(good, []byte("checksum"))], "truncated"},
		{"edited choice", editDigit(good, half), "checksum mismatch"},
		{"edited protocol", bytes.Replace(good, []byte("protocol paxos"), []byte("protocol raft!"), 1), "checksum mismatch"},
		{"checksum of something else", append(good[:bytes.LastIndex(good, []byte("checksum"))], []byte("checksum 00\n")...), "checksum mismatch"},
	}
	for _, tt := range tests {
		_, err := Decode(bytes.NewReader(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: the error spans several lines: %q", tt.name, err)
		}
	}
	if _, err := Decode(bytes.NewReader(good[:40])); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated capsule: %v, want ErrTruncated", err)
	}
}

// editDigit changes the first digit at or after i, as a hand edit would.
func editDigit(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	for ; i < len(out); i++ {
		if out[i] >= '0' && out[i] <= '9' {
			out[i] = '0' + (out[i]-'0'+1)%10
			return out
		}
	}
	panic("no digit")
}

// FuzzDecode: no input makes Decode panic, and whatever it accepts re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	var b bytes.Buffer
	sample().Encode(&b)
	f.Add(b.Bytes())
	f.Add([]byte("replica-capsule 1\nchecksum x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var again bytes.Buffer
		if err := c.Encode(&again); err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(&again); err != nil {
			t.Fatalf("a capsule that decoded does not decode after re-encoding: %v", err)
		}
	})
}

func TestAFinalNewlineMayBeMissing(t *testing.T) {
	var b bytes.Buffer
	c := &Capsule{Source: "run", Protocol: "paxos", Scenario: "default", N: 3, Seed: 7, Choices: []int32{1, 2, 3}}
	if err := c.Encode(&b); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	if _, err := Decode(bytes.NewReader(data[:len(data)-1])); err != nil {
		t.Errorf("a capsule missing only its final newline: %v", err)
	}
	for _, cut := range []int{2, 10, 70} { // into the checksum line
		if _, err := Decode(bytes.NewReader(data[:len(data)-cut])); err == nil {
			t.Errorf("a capsule cut %d bytes short reads", cut)
		}
	}
}

func TestResealAfterAHandEdit(t *testing.T) {
	var b bytes.Buffer
	c := &Capsule{Source: "run", Protocol: "paxos", Scenario: "default", N: 3, Seed: 7, Choices: []int32{1, 2, 3}}
	c.Encode(&b)
	edited := bytes.Replace(b.Bytes(), []byte("c 1 2 3\n"), []byte("c 1 5 3\n"), 1)
	if _, err := Decode(bytes.NewReader(edited)); !errors.Is(err, ErrChecksum) {
		t.Fatalf("a hand-edited capsule reads: %v", err)
	}
	fixed, err := Reseal(edited)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(fixed))
	if err != nil || got.Choices[1] != 5 {
		t.Fatalf("resealed: %v, choices %v", err, got.Choices)
	}
	// Without its checksum line, and without a final newline, too.
	noSum := fixed[:bytes.LastIndex(fixed, []byte("checksum "))-1]
	if again, err := Reseal(noSum); err != nil || !bytes.Equal(again, fixed) {
		t.Errorf("resealing a capsule without checksum: %v", err)
	}
	// An edit that breaks the format is still refused.
	if _, err := Reseal(bytes.Replace(edited, []byte("c 1 5 3"), []byte("c 1 x 3"), 1)); err == nil {
		t.Error("a malformed choice was resealed")
	}
}
