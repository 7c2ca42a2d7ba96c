package view

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/replica-io/replica/sim/capsule"
)

// chromium finds a Chromium to test the page in, or skips the test saying how to get one.
func chromium(t testing.TB) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("Chromium is not installed, so the page is not tested in a browser: apt-get install -y chromium")
	return ""
}

// browser starts a headless Chromium for the test, with the flags this machine needs (no
// sandbox as root, no GPU, none of the background connections a closed network refuses).
func browser(t *testing.T) context.Context { return browserFor(t) }

func browserFor(t testing.TB) context.Context {
	// Chromium's helper processes may still write to its profile for a moment after the
	// browser exits, which t.TempDir's cleanup takes for a failure: remove it ourselves.
	profile, err := os.MkdirTemp("", "replica-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1400, 1000),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// writePage builds a capsule's page into dir and returns its file.
func writePage(t *testing.T, dir, name string, c *capsule.Capsule) (*Page, string) {
	t.Helper()
	capPath := filepath.Join(dir, name+".capsule")
	if err := capsule.Write(capPath, c); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name+".html")
	p, _, err := WriteFile(capPath, out)
	if err != nil {
		t.Fatal(err)
	}
	return p, out
}

// open loads a page in a new tab and waits until its script has drawn it.
func open(t *testing.T, ctx context.Context, path string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Run(tab, chromedp.Navigate("file://"+path), chromedp.WaitReady("body[data-ready]")); err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return tab
}

// count is the number of elements a selector matches.
func count(t *testing.T, tab context.Context, selector string) int {
	t.Helper()
	var n int
	if err := chromedp.Run(tab, chromedp.Evaluate(fmt.Sprintf("document.querySelectorAll(%q).length", selector), &n)); err != nil {
		t.Fatal(err)
	}
	return n
}

// shownEvent is the event the detail pane shows.
func shownEvent(t *testing.T, tab context.Context) int {
	t.Helper()
	var h string
	if err := chromedp.Run(tab, chromedp.Text("#detail h2", &h, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	var k int
	if _, err := fmt.Sscanf(h, "Event %d", &k); err != nil {
		t.Fatalf("the detail pane's heading %q names no event", h)
	}
	return k
}

// screenshot saves what the tab shows, among the test's artifacts.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(tab, chromedp.CaptureScreenshot(&png)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestPageInBrowser loads pages of run and explore capsules in headless Chromium and uses them
// as a person would: it counts lanes, arrows, fault marks and the violation against the
// capsule, steps with the keyboard and clicks, filters by node, and takes screenshots (kept
// with go test -artifacts). Then a run whose texts are markup, and a cluster of 64 nodes.
func TestPageInBrowser(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		c    *capsule.Capsule
	}{
		{"run", runCapsule(t, "paxos", "no-persist", "crash-restart", 0)},
		{"explore", exploreCapsule(t, noPersistRace)},
		{"byzantine", runCapsule(t, "pbft", "no-digest-check", "byzantine-primary", 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, path := writePage(t, dir, tc.name, tc.c)
			tab := open(t, ctx, path)
			if got, want := count(t, tab, "[data-lane]"), tc.c.N+1; got != want {
				t.Errorf("%d lanes, want %d (the nodes and the clients)", got, want)
			}
			if got, want := count(t, tab, "[data-msg]"), arrows(p); got != want {
				t.Errorf("%d message arrows, want %d", got, want)
			}
			if got, want := count(t, tab, "[data-fault]"), faultMarks(p); got != want {
				t.Errorf("%d fault marks, want %d", got, want)
			}
			var prop string
			if err := chromedp.Run(tab, chromedp.AttributeValue("[data-violation]", "data-violation", &prop, nil, chromedp.ByQuery)); err != nil || prop != tc.c.Property {
				t.Errorf("the violation marker names %q (%v), want %q", prop, err, tc.c.Property)
			}
			if n := count(t, tab, "[data-violation]"); n != 1 {
				t.Errorf("%d violation markers", n)
			}
			// The page opens at the violation; the keyboard steps back and forth.
			v := p.Violation.Event
			if k := shownEvent(t, tab); k != v {
				t.Fatalf("the page opens at event %d, want the violation's %d", k, v)
			}
			if err := chromedp.Run(tab, chromedp.KeyEvent(kb.ArrowUp), chromedp.KeyEvent(kb.ArrowUp)); err != nil {
				t.Fatal(err)
			}
			if k := shownEvent(t, tab); k != v-2 {
				t.Errorf("two steps back from event %d show event %d", v, k)
			}
			if err := chromedp.Run(tab, chromedp.KeyEvent(kb.ArrowDown)); err != nil {
				t.Fatal(err)
			}
			if k := shownEvent(t, tab); k != v-1 {
				t.Errorf("a step on from event %d shows event %d", v-2, k)
			}
			// What the pane shows of that event: its entries, and the states that changed.
			var pane string
			if err := chromedp.Run(tab, chromedp.Text("#detail", &pane, chromedp.ByQuery)); err != nil {
				t.Fatal(err)
			}
			ev := p.Events[v-1]
			first := p.Entries[ev.From]
			if !strings.Contains(pane, p.Whats[first.W]) || (first.S != 0 && !strings.Contains(pane, p.Text[first.S])) {
				t.Errorf("the pane of event %d lacks its first entry %s %s:\n%s", v-1, p.Whats[first.W], p.Text[first.S], pane)
			}
			for _, s := range ev.States {
				for _, c := range s.Changes {
					if !strings.Contains(pane, c.Path) || !strings.Contains(pane, c.After) {
						t.Errorf("the pane of event %d lacks the change %+v", v-1, c)
					}
				}
			}
			// A click on a message arrow shows the event it leads to.
			var at struct {
				X, Y float64
				Ev   int
			}
			if err := chromedp.Run(tab, chromedp.Evaluate(`(() => {
				for (const a of document.querySelectorAll('[data-msg]')) {
					const r = a.getBoundingClientRect();
					const x = r.left + r.width / 2, y = r.top + r.height / 2;
					const hit = document.elementFromPoint(x, y);
					if (hit === a) return {X: x, Y: y, Ev: Number(a.getAttribute('data-ev'))};
				}
				return {X: -1, Y: -1, Ev: -1};
			})()`, &at)); err != nil {
				t.Fatal(err)
			}
			if at.Ev < 0 {
				t.Fatal("no message arrow on screen can be clicked")
			}
			if err := chromedp.Run(tab, chromedp.MouseClickXY(at.X, at.Y)); err != nil {
				t.Fatal(err)
			}
			if k := shownEvent(t, tab); k != at.Ev {
				t.Errorf("a click on an arrow into event %d shows event %d", at.Ev, k)
			}
			// Filtering by one node keeps only its messages.
			want := 0
			for _, m := range p.Msgs {
				if m.From == 1 || m.To == 1 {
					want += max(1, len(m.Fates))
				}
			}
			if err := chromedp.Run(tab, chromedp.SetValue("#f-node", "n1", chromedp.ByQuery),
				chromedp.Evaluate(`document.getElementById('f-node').dispatchEvent(new Event('change'))`, nil)); err != nil {
				t.Fatal(err)
			}
			if got := count(t, tab, "[data-msg]"); got != want {
				t.Errorf("filtered to n1: %d arrows, want %d", got, want)
			}
			screenshot(t, tab, tc.name+"-n1")
			// So does filtering by a message type, and by faults alone.
			byType, faulty := 0, 0
			for _, m := range p.Msgs {
				if m.Type == 1 {
					byType += max(1, len(m.Fates))
				}
				bad := m.Dup != 0 || len(m.Bent) > 0
				for _, f := range m.Fates {
					bad = bad || p.Faults[p.Entries[f].W]
				}
				if bad {
					faulty += max(1, len(m.Fates))
				}
			}
			if err := chromedp.Run(tab, chromedp.SetValue("#f-node", "", chromedp.ByQuery),
				chromedp.Evaluate(`document.getElementById('f-node').dispatchEvent(new Event('change'))`, nil),
				chromedp.SetValue("#f-type", "1", chromedp.ByQuery),
				chromedp.Evaluate(`document.getElementById('f-type').dispatchEvent(new Event('change'))`, nil)); err != nil {
				t.Fatal(err)
			}
			if got := count(t, tab, "[data-msg]"); got != byType {
				t.Errorf("filtered to %s: %d arrows, want %d", p.Types[0], got, byType)
			}
			if err := chromedp.Run(tab, chromedp.SetValue("#f-type", "0", chromedp.ByQuery),
				chromedp.Evaluate(`document.getElementById('f-type').dispatchEvent(new Event('change'))`, nil),
				chromedp.Click("#f-faults", chromedp.ByQuery)); err != nil {
				t.Fatal(err)
			}
			if got := count(t, tab, "[data-msg]"); got != faulty {
				t.Errorf("faults only: %d arrows, want %d", got, faulty)
			}
			if err := chromedp.Run(tab, chromedp.Click("#f-faults", chromedp.ByQuery)); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Run(tab, chromedp.SetValue("#f-node", "", chromedp.ByQuery),
				chromedp.Evaluate(`document.getElementById('f-node').dispatchEvent(new Event('change'))`, nil),
				chromedp.Click("#detail .nav button.link", chromedp.ByQuery)); err != nil {
				t.Fatal(err)
			}
			if k := shownEvent(t, tab); k != v {
				t.Errorf("the violation's button shows event %d, want %d", k, v)
			}
			screenshot(t, tab, tc.name)
		})
	}
	t.Run("markup", func(t *testing.T) { markupInBrowser(t, ctx) })
	t.Run("n64", func(t *testing.T) { largeClusterInBrowser(t, ctx) })
}

// markupInBrowser: a run whose texts are markup runs no script of its own, and its texts show
// as they are.
func markupInBrowser(t *testing.T, ctx context.Context) {
	c := runCapsule(t, markupProtocol.Name, "", "calm", 3)
	_, path := writePage(t, t.TempDir(), "markup", c)
	tab := open(t, ctx, path)
	var pwned bool
	var header, pane string
	if err := chromedp.Run(tab,
		chromedp.Evaluate(`window.pwned !== undefined || document.querySelector('#head img, #detail img, svg img') !== null`, &pwned),
		chromedp.Text("#head", &header, chromedp.ByQuery),
		chromedp.Text("#detail", &pane, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if pwned {
		t.Fatal("markup from the run ran in the page")
	}
	if !strings.Contains(header, markup) || !strings.Contains(pane, markup) {
		t.Errorf("the run's markup does not show as text:\nheader %q\npane %q", header, pane)
	}
}

// largeClusterInBrowser: 64 nodes get 64 lanes and the clients' one.
func largeClusterInBrowser(t *testing.T, ctx context.Context) {
	c := runCapsule(t, markupProtocol.Name, "", "calm", 64)
	p, path := writePage(t, t.TempDir(), "n64", c)
	tab := open(t, ctx, path)
	if got := count(t, tab, "[data-lane]"); got != 65 {
		t.Errorf("%d lanes for 64 nodes", got)
	}
	if got := count(t, tab, "[data-msg]"); got != arrows(p) {
		t.Errorf("%d arrows, want %d", got, arrows(p))
	}
	screenshot(t, tab, "n64")
}

// BenchmarkRaftSwarmPage measures the page of a Raft swarm failure of thousands of events in
// Chromium: how long it takes to open (navigation to drawn) and to step (a key press to the
// detail pane updated and painted, timed inside the page with performance.now()).
func BenchmarkRaftSwarmPage(b *testing.B) {
	c := runCapsule(b, "raft", "dup-vote", "swarm", 0)
	dir := b.TempDir()
	built := time.Now()
	p, err := Build(c, "raft-swarm.capsule")
	if err != nil {
		b.Fatal(err)
	}
	buildTime := time.Since(built)
	var page bytes.Buffer
	if err := p.WriteHTML(&page); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "raft-swarm.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := browserFor(b)
	b.ResetTimer()
	var loadMs, drawMs, stepMax, stepSum float64
	steps := 0
	for b.Loop() {
		tab, cancel := chromedp.NewContext(ctx)
		var load struct{ ScriptStartMs, ParseMs, PaintedMs, DrawMs, ReadyMs float64 }
		if err := chromedp.Run(tab, chromedp.Navigate("file://"+path), chromedp.WaitReady("body[data-ready]"),
			chromedp.Sleep(200*time.Millisecond), chromedp.Evaluate(`window.replicaLoad`, &load)); err != nil {
			b.Fatal(err)
		}
		loadMs, drawMs = max(loadMs, load.PaintedMs), max(drawMs, load.DrawMs)
		b.Logf("opening: %+v", load)
		for range 20 {
			if err := chromedp.Run(tab, chromedp.KeyEvent(kb.ArrowUp)); err != nil {
				b.Fatal(err)
			}
		}
		var timings []struct{ PaintedMs float64 }
		if err := chromedp.Run(tab, chromedp.Sleep(300*time.Millisecond), chromedp.Evaluate(`window.replicaTimings`, &timings)); err != nil {
			b.Fatal(err)
		}
		for _, tm := range timings {
			stepMax = max(stepMax, tm.PaintedMs)
			stepSum += tm.PaintedMs
			steps++
		}
		cancel()
	}
	b.ReportMetric(float64(len(p.Events)), "events")
	b.ReportMetric(float64(page.Len())/1e6, "page-MB")
	b.ReportMetric(buildTime.Seconds(), "build-s")
	b.ReportMetric(loadMs, "open-ms")
	b.ReportMetric(drawMs, "draw-ms")
	b.ReportMetric(stepMax, "step-max-ms")
	if steps > 0 {
		b.ReportMetric(stepSum/float64(steps), "step-mean-ms")
	}
}
