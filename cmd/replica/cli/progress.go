package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/replica-io/replica/scenarios/campaign"
)

// progress prints a one-line status of long work on a terminal, and nothing otherwise (in
// CI, or when output goes to a file).
type progress struct {
	w              io.Writer
	on             bool
	total          int
	done, failures int
	start, last    time.Time
	shown          bool
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, on: isTerminal(w), total: total, start: time.Now()}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) add(failed bool) {
	p.done++
	if failed {
		p.failures++
	}
	if !p.on || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate := float64(p.done) / max(el, 1e-9)
	left := time.Duration(float64(p.total-p.done)/max(rate, 1e-9)) * time.Second
	fmt.Fprintf(p.w, "\r%d/%d seeds, %d failures, %.0f seeds/s, %v left   ", p.done, p.total, p.failures, rate, left.Round(time.Second))
	p.shown = true
}

// clear erases the progress line before other output.
func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// seedDisplay shows a campaign's progress on a terminal: seeds done of the total, or under a
// time budget, seeds done and the time left.
type seedDisplay struct {
	prog      *progress
	status    *statusLine
	began     time.Time
	budgetEnd time.Time
	n, fails  int
}

// start begins the display of todo seeds (-1: as many as budget allows).
func (d *seedDisplay) start(w io.Writer, todo int, budget time.Duration) {
	d.began = time.Now()
	if todo < 0 {
		d.status = newStatusLine(w)
		d.budgetEnd = d.began.Add(budget)
		return
	}
	d.prog = newProgress(w, todo)
}

func (d *seedDisplay) add(r campaign.Result) {
	d.n++
	if r.Violation != nil {
		d.fails++
	}
	if d.prog != nil {
		d.prog.add(r.Violation != nil)
	}
	if d.status != nil {
		d.status.show("%d seeds, %d failures, %.0f seeds/s, %v of the time budget left", d.n, d.fails,
			float64(d.n)/max(time.Since(d.began).Seconds(), 1e-9), time.Until(d.budgetEnd).Round(time.Second))
	}
}

// clear erases the display before other output.
func (d *seedDisplay) clear() {
	if d.prog != nil {
		d.prog.clear()
	}
	if d.status != nil {
		d.status.clear()
	}
}
