package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFleetRecipes runs docs/FLEET.md as written, with fewer seeds: the shell commands of its
// first example, the Kubernetes manifests (kubectl's client-side dry run, and the shard and
// merge Jobs' args through the command line) and the CI matrix's shard and merge steps. Each
// merged summary must equal the unsharded run's, field for field.
func TestFleetRecipes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "FLEET.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	t.Run("shell", func(t *testing.T) { shellRecipe(t, doc) })
	t.Run("kubernetes", func(t *testing.T) { kubernetesRecipe(t, doc) })
	t.Run("kubectl", func(t *testing.T) { kubectlDryRun(t, doc) })
	t.Run("ci-matrix", func(t *testing.T) { ciMatrixRecipe(t, doc) })
}

// codeBlocks returns the fenced blocks of doc whose info string is lang ("" for none).
func codeBlocks(doc, lang string) []string {
	re := regexp.MustCompile("(?ms)^```" + regexp.QuoteMeta(lang) + "\n(.*?)^```\n")
	var out []string
	for _, m := range re.FindAllStringSubmatch(doc, -1) {
		out = append(out, m[1])
	}
	return out
}

// sameSummary fails t unless two run -json outputs agree on every field but the wall time.
func sameSummary(t *testing.T, what, want, got string) {
	t.Helper()
	var a, b map[string]any
	if err := json.Unmarshal([]byte(want), &a); err != nil {
		t.Fatalf("%s: the unsharded run printed no JSON: %v\n%s", what, err, want)
	}
	if err := json.Unmarshal([]byte(got), &b); err != nil {
		t.Fatalf("%s: merge printed no JSON: %v\n%s", what, err, got)
	}
	delete(a, "wall_seconds")
	delete(b, "wall_seconds")
	for k := range a {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			t.Errorf("%s: merged %s = %v, unsharded %v", what, k, b[k], a[k])
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			t.Errorf("%s: merged summary has %s, the unsharded one not", what, k)
		}
	}
}

// shellRecipe runs the first example: four shards, then merge, whose comment names the
// unsharded command it equals.
func shellRecipe(t *testing.T, doc string) {
	var block string
	for _, b := range codeBlocks(doc, "") {
		if strings.Contains(b, "replica merge") {
			block = b
			break
		}
	}
	if block == "" {
		t.Fatal("no shell example with replica merge")
	}
	t.Chdir(t.TempDir())
	var merged, whole string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd, comment, _ := strings.Cut(line, "#")
		args := strings.Fields(cmd)[1:] // after "replica"
		code, out, errs := cli(args...)
		if code > 1 {
			t.Fatalf("%s: exit %d: %s", cmd, code, errs)
		}
		if args[0] == "merge" {
			merged = out
			unsharded := strings.Fields(strings.TrimPrefix(strings.TrimSpace(comment), "=="))
			_, whole, _ = cli(unsharded[1:]...)
		}
	}
	sameSummary(t, "shell example", whole, merged)
}

// jobArgs returns the args of the Job named name in the manifests, a JSON array on one line.
func jobArgs(t *testing.T, doc, name string) []string {
	t.Helper()
	for _, b := range codeBlocks(doc, "yaml") {
		for _, manifest := range strings.Split(b, "\n---\n") {
			if !strings.Contains(manifest, "kind: Job") || !strings.Contains(manifest, "name: "+name+"\n") {
				continue
			}
			m := regexp.MustCompile(`(?m)^\s*args: (\[.*\])$`).FindStringSubmatch(manifest)
			if m == nil {
				t.Fatalf("job %s has no args line", name)
			}
			if strings.Contains(manifest, "command:") || strings.Contains(manifest, "sh -c") {
				t.Errorf("job %s runs a shell: the distroless image has none", name)
			}
			var args []string
			if err := json.Unmarshal([]byte(m[1]), &args); err != nil {
				t.Fatalf("job %s: args %s: %v", name, m[1], err)
			}
			return args
		}
	}
	t.Fatalf("no Job %s in the manifests", name)
	return nil
}

// kubernetesRecipe runs every index of the Indexed Job, as Kubernetes would start them, then
// the merge Job, on one directory standing for the volume.
func kubernetesRecipe(t *testing.T, doc string) {
	shard, merge := jobArgs(t, doc, "paxos-campaign"), jobArgs(t, doc, "paxos-campaign-merge")
	completions := regexp.MustCompile(`(?m)^\s*completions: (\d+)`).FindStringSubmatch(doc)
	if completions == nil {
		t.Fatal("the Job states no completions")
	}
	volume := t.TempDir()
	local := func(args []string, index string) []string {
		var out []string
		for i, a := range args {
			a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", index)
			a = strings.ReplaceAll(a, "/results", volume)
			if i > 0 && args[i-1] == "-seeds" {
				a = "320" // a smaller campaign, the same recipe
			}
			out = append(out, a)
		}
		return out
	}
	var n int
	fmt.Sscan(completions[1], &n)
	for i := range n {
		args := local(shard, fmt.Sprint(i))
		if code, _, errs := cli(args...); code > 1 {
			t.Fatalf("index %d: %v: exit %d: %s", i, args, code, errs)
		}
	}
	code, text, errs := cli(local(merge, "")...)
	if code > 1 || !strings.Contains(text, fmt.Sprintf("merged %d files: 320 distinct seeds", n)) {
		t.Fatalf("the merge Job: exit %d: %s%s", code, text, errs)
	}
	_, merged, _ := cli(append(local(merge, ""), "-json")...)
	var unsharded []string
	for i, a := range local(shard, "") {
		if a == "-shard" || i > 0 && local(shard, "")[i-1] == "-shard" {
			continue
		}
		if a == "-resume" {
			break
		}
		unsharded = append(unsharded, a)
	}
	_, whole, _ := cli(append(unsharded, "-out", filepath.Join(volume, "capsules"), "-json")...)
	sameSummary(t, "Kubernetes recipe", whole, merged)
}

// ciMatrixRecipe runs the CI matrix's shard steps for every shard and its merge step.
func ciMatrixRecipe(t *testing.T, doc string) {
	if _, err := exec.Command("git", "rev-parse", "HEAD").Output(); err != nil {
		t.Skip("not in a git checkout: -seed-from-commit cannot run")
	}
	i := strings.Index(doc, "## A CI matrix")
	blocks := codeBlocks(doc[i:], "yaml")
	if len(blocks) == 0 {
		t.Fatal("no CI matrix workflow")
	}
	wf := blocks[0]
	shards := regexp.MustCompile(`shard: \[([0-9, ]+)\]`).FindStringSubmatch(wf)
	run := regexp.MustCompile(`(?s)- run: >\n(.*?)\n\s*- uses`).FindStringSubmatch(wf)
	mergeStep := regexp.MustCompile(`- run: go run ./cmd/replica (merge [^#\n]*)`).FindStringSubmatch(wf)
	if shards == nil || run == nil || mergeStep == nil {
		t.Fatal("the CI matrix lacks its shard list, shard step or merge step")
	}
	step, _, _ := strings.Cut(strings.Join(strings.Fields(run[1]), " "), " || test $? -le 1")
	dir := t.TempDir()
	root, _ := os.Getwd()
	t.Chdir(dir)
	t.Setenv("GIT_DIR", gitDir(t, root))
	for _, s := range strings.Split(shards[1], ",") {
		cmd := strings.ReplaceAll(step, "${{ matrix.shard }}", strings.TrimSpace(s))
		args := strings.Fields(cmd)[1:] // after ./replica
		for j := range args {
			if j > 0 && args[j-1] == "-seeds" {
				args[j] = "400"
			}
		}
		if code, _, errs := cli(args...); code > 1 {
			t.Fatalf("shard %s: exit %d: %s", s, code, errs)
		}
	}
	margs := strings.Fields(mergeStep[1])
	_, merged, errs := cli(append(margs, "-json")...)
	if merged == "" {
		t.Fatalf("the merge step printed nothing: %s", errs)
	}
	var unsharded []string
	for _, a := range strings.Fields(strings.ReplaceAll(step, "${{ matrix.shard }}", "0"))[1:] {
		unsharded = append(unsharded, a)
	}
	for j := 0; j < len(unsharded); j++ {
		switch unsharded[j] {
		case "-shard", "-results":
			unsharded = append(unsharded[:j], unsharded[j+2:]...)
			j--
		case "-seeds":
			unsharded[j+1] = "400"
		}
	}
	_, whole, _ := cli(append(unsharded, "-json")...)
	sameSummary(t, "CI matrix", whole, merged)
}

// kubectlDryRun passes the manifests to kubectl apply --dry-run=client --validate=false. Even
// a client-side dry run asks a server which resources exist (discovery) and whether the
// objects do, so a stand-in server answers exactly that: the v1 and batch/v1 resources the
// manifests use, and "not found" for every object. The objects kubectl would create must be
// the manifests' own: the Jobs' containers run the binary (no shell) and both mount the claim.
func kubectlDryRun(t *testing.T, doc string) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: the manifests were not given to kubectl (.ci/run installs it)")
	}
	var manifests []string
	for _, b := range codeBlocks(doc, "yaml") {
		if strings.Contains(b, "apiVersion:") {
			manifests = append(manifests, b)
		}
	}
	file := filepath.Join(t.TempDir(), "fleet.yaml")
	os.WriteFile(file, []byte(strings.Join(manifests, "---\n")), 0o644)
	srv := httptest.NewServer(http.HandlerFunc(discovery))
	defer srv.Close()
	cmd := exec.Command(kubectl, "--server", srv.URL, "apply", "--dry-run=client", "--validate=false", "-f", file, "-o", "json")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"))
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("kubectl apply --dry-run=client --validate=false: %v\n%s", err, msg)
	}
	var list struct {
		Items []struct {
			Kind     string `json:"kind"`
			Metadata struct{ Name string }
			Spec     struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Command []string
							Args    []string
						}
						Volumes []struct {
							PersistentVolumeClaim struct{ ClaimName string }
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("kubectl printed no list: %v\n%s", err, out)
	}
	kinds := map[string]int{}
	for _, it := range list.Items {
		kinds[it.Kind]++
		if it.Kind != "Job" {
			continue
		}
		ps := it.Spec.Template.Spec
		if len(ps.Containers) != 1 || len(ps.Containers[0].Command) != 0 || len(ps.Containers[0].Args) == 0 {
			t.Errorf("job %s: containers %+v", it.Metadata.Name, ps.Containers)
		}
		if len(ps.Volumes) != 1 || ps.Volumes[0].PersistentVolumeClaim.ClaimName != "replica-results" {
			t.Errorf("job %s does not mount the claim replica-results: %+v", it.Metadata.Name, ps.Volumes)
		}
	}
	if kinds["Job"] != 2 || kinds["PersistentVolumeClaim"] != 1 {
		t.Errorf("kubectl would create %v, want two Jobs and a PersistentVolumeClaim", kinds)
	}
}

// discovery answers kubectl's discovery requests for the resources of the manifests, and
// "not found" for everything else.
func discovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	resource := func(name, kind string) string {
		return fmt.Sprintf(`{"name":%q,"singularName":%q,"namespaced":true,"kind":%q,"verbs":["create","get","list","patch"]}`,
			name, strings.ToLower(kind), kind)
	}
	switch r.URL.Path {
	case "/api":
		fmt.Fprint(w, `{"kind":"APIVersions","versions":["v1"]}`)
	case "/apis":
		fmt.Fprint(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"batch","versions":[{"groupVersion":"batch/v1","version":"v1"}],"preferredVersion":{"groupVersion":"batch/v1","version":"v1"}}]}`)
	case "/api/v1":
		fmt.Fprintf(w, `{"kind":"APIResourceList","groupVersion":"v1","resources":[%s]}`, resource("persistentvolumeclaims", "PersistentVolumeClaim"))
	case "/apis/batch/v1":
		fmt.Fprintf(w, `{"kind":"APIResourceList","groupVersion":"batch/v1","resources":[%s]}`, resource("jobs", "Job"))
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
	}
}

// gitDir is the git directory of the checkout holding dir (a worktree's own, too).
func gitDir(t *testing.T, dir string) string {
	cmd := exec.Command("git", "rev-parse", "--absolute-git-dir")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Skip("not in a git checkout")
	}
	return strings.TrimSpace(string(out))
}
