// Package capsule reads and writes replay capsules: small, self-contained text files that
// hold everything needed to re-run one run exactly — the protocol, its bug variant, the
// scenario and cluster, the seed, the recorded choices — together with what the run showed
// (the violated property, the trace hash) and a checksum of the whole.
//
// A capsule is line-oriented "key value" text, so that it can be read, diffed and attached
// to a bug report. Loading checks everything: the format version, every key, every number,
// and the checksum, so that a corrupt, truncated or hand-edited capsule is refused with an
// error that names the problem instead of replaying something else.
package capsule

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Version is the format version this package writes and reads.
const Version = 1

const magic = "replica-capsule"

// Capsule is one recorded run.
type Capsule struct {
	// Source is the tool that wrote it: "run", "explore" or "shrink".
	Source string
	// The run's identity: everything Resolve needs to rebuild its configuration.
	Protocol string
	Bug      string
	Scenario string
	N, F     int
	Seed     uint64
	// Options holds further parameters of the run (the explorer's network semantics and
	// budgets, a shortened fault phase), written in sorted order.
	Options map[string]string
	// Profile is the fault profile the run used, for readers (swarm runs draw it).
	Profile string
	// What the run showed.
	Property  string
	Message   string
	Event     int
	TraceHash uint64
	// Choices is the run's choice sequence.
	Choices []int32
}

// Errors that callers branch on.
var (
	ErrNotCapsule = errors.New("not a replica capsule")
	ErrChecksum   = errors.New("checksum mismatch: the capsule was edited or corrupted")
	ErrTruncated  = errors.New("truncated: the capsule ends before its checksum line")
)

// Encode writes c in the text format, checksum last.
func (c *Capsule) Encode(w io.Writer) error {
	var b bytes.Buffer
	line := func(key string, v any) { fmt.Fprintf(&b, "%s %v\n", key, v) }
	fmt.Fprintf(&b, "%s %d\n", magic, Version)
	line("source", c.Source)
	line("protocol", c.Protocol)
	if c.Bug != "" {
		line("bug", c.Bug)
	}
	line("scenario", c.Scenario)
	line("n", c.N)
	line("f", c.F)
	line("seed", c.Seed)
	keys := make([]string, 0, len(c.Options))
	for k := range c.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "option %s=%s\n", k, oneLine(c.Options[k]))
	}
	if c.Profile != "" {
		line("profile", oneLine(c.Profile))
	}
	if c.Property != "" {
		line("property", oneLine(c.Property))
		line("message", oneLine(c.Message))
		line("event", c.Event)
	}
	fmt.Fprintf(&b, "trace-hash %016x\n", c.TraceHash)
	line("choices", len(c.Choices))
	for i := 0; i < len(c.Choices); i += 32 {
		b.WriteString("c")
		for _, v := range c.Choices[i:min(i+32, len(c.Choices))] {
			b.WriteString(" ")
			b.WriteString(strconv.Itoa(int(v)))
		}
		b.WriteString("\n")
	}
	sum := sha256.Sum256(b.Bytes())
	fmt.Fprintf(&b, "checksum %s\n", hex.EncodeToString(sum[:]))
	_, err := w.Write(b.Bytes())
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Decode reads a capsule and checks it whole.
func Decode(r io.Reader) (*Capsule, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	body, err := verify(data)
	if err != nil {
		return nil, err
	}
	return parse(body)
}

// verify checks the magic line and the checksum, and returns the checksummed body.
func verify(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte(magic+" ")) {
		return nil, ErrNotCapsule
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	v, err := strconv.Atoi(strings.TrimSpace(string(first[len(magic)+1:])))
	if err != nil {
		return nil, fmt.Errorf("%w: bad version line %q", ErrNotCapsule, first)
	}
	if v != Version {
		return nil, fmt.Errorf("format version %d is not supported (this replica reads version %d)", v, Version)
	}
	data = withFinalNewline(data)
	i := bytes.LastIndex(data, []byte("\nchecksum "))
	if i < 0 || !bytes.HasSuffix(data, []byte("\n")) {
		return nil, ErrTruncated
	}
	body := data[:i+1]
	want := strings.TrimSpace(string(data[i+len("\nchecksum "):]))
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != want {
		return nil, ErrChecksum
	}
	return body, nil
}

// withFinalNewline adds the newline an editor may have dropped after a complete checksum
// line (64 hex digits); a checksum line cut short stays truncated.
func withFinalNewline(data []byte) []byte {
	if bytes.HasSuffix(data, []byte("\n")) {
		return data
	}
	i := bytes.LastIndexByte(data, '\n')
	last := string(data[i+1:])
	sum, ok := strings.CutPrefix(last, "checksum ")
	if !ok || len(sum) != 2*sha256.Size {
		return data
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return data
	}
	return append(data[:len(data):len(data)], '\n')
}

// Reseal recomputes the checksum of a capsule edited by hand (a choice changed to see what
// the run does then), after checking that everything else in it is well-formed: the edit is
// meant, so the capsule reads again, and `replica replay` reports whether the run diverged
// from its recorded trace. The result is the capsule's bytes with the new checksum line.
func Reseal(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte(magic+" ")) {
		return nil, ErrNotCapsule
	}
	data = withFinalNewline(data)
	body := data
	if i := bytes.LastIndex(data, []byte("\nchecksum ")); i >= 0 {
		body = data[:i+1]
	}
	if !bytes.HasSuffix(body, []byte("\n")) {
		body = append(body[:len(body):len(body)], '\n')
	}
	if _, err := parse(body); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	return append(body[:len(body):len(body)], []byte("checksum "+hex.EncodeToString(sum[:])+"\n")...), nil
}

// parse reads the fields of a verified body; everything must be well-formed.
func parse(body []byte) (*Capsule, error) {
	c := &Capsule{Options: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan() // the magic line, already checked
	lineNo := 1
	count := -1
	for sc.Scan() {
		lineNo++
		key, val, _ := strings.Cut(sc.Text(), " ")
		if err := c.set(key, val, &count); err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
	}
	switch {
	case c.Protocol == "":
		return nil, errors.New("no protocol line")
	case c.Scenario == "":
		return nil, errors.New("no scenario line")
	case count != len(c.Choices):
		return nil, fmt.Errorf("%d choices listed, %d declared", len(c.Choices), count)
	}
	return c, nil
}

func (c *Capsule) set(key, val string, count *int) error {
	var err error
	switch key {
	case "source":
		c.Source = val
	case "protocol":
		c.Protocol = val
	case "bug":
		c.Bug = val
	case "scenario":
		c.Scenario = val
	case "n":
		c.N, err = strconv.Atoi(val)
	case "f":
		c.F, err = strconv.Atoi(val)
	case "seed":
		c.Seed, err = strconv.ParseUint(val, 10, 64)
	case "option":
		k, v, ok := strings.Cut(val, "=")
		if !ok {
			return fmt.Errorf("option %q is not key=value", val)
		}
		c.Options[k] = v
	case "profile":
		c.Profile = val
	case "property":
		c.Property = val
	case "message":
		c.Message = val
	case "event":
		c.Event, err = strconv.Atoi(val)
	case "trace-hash":
		c.TraceHash, err = strconv.ParseUint(val, 16, 64)
	case "choices":
		*count, err = strconv.Atoi(val)
	case "c":
		for _, f := range strings.Fields(val) {
			v, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				return fmt.Errorf("bad choice %q", f)
			}
			c.Choices = append(c.Choices, int32(v))
		}
	default:
		return fmt.Errorf("unknown field %q", key)
	}
	if err != nil {
		return fmt.Errorf("bad %s %q", key, val)
	}
	return nil
}

// Write saves c to path, creating its directory.
func Write(path string, c *Capsule) error {
	var b bytes.Buffer
	if err := c.Encode(&b); err != nil {
		return err
	}
	if i := strings.LastIndex(path, "/"); i > 0 {
		if err := os.MkdirAll(path[:i], 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// Read loads and checks the capsule at path.
func Read(path string) (*Capsule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("capsule %s: %w", path, err)
	}
	return c, nil
}
