package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The manifests are checked three ways: each document decodes strictly
// into its Kubernetes API type (an unknown or misspelt field fails), the
// parts agree with each other (names, ports, the token's Secret, the shard
// count), and every redirlab command line they run uses only subcommands
// and flags the redirlab binary built from this tree documents in --help.

const binary = "/usr/local/bin/redirlab" // the Dockerfile's ENTRYPOINT

// manifests are every document of kubernetes/*.yaml, decoded.
type manifests struct {
	configMaps   map[string]*corev1.ConfigMap
	services     map[string]*corev1.Service
	deployments  map[string]*appsv1.Deployment
	statefulSets map[string]*appsv1.StatefulSet
	jobs         map[string]*batchv1.Job
	claims       map[string]*corev1.PersistentVolumeClaim
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{
		configMaps: map[string]*corev1.ConfigMap{}, services: map[string]*corev1.Service{},
		deployments: map[string]*appsv1.Deployment{}, statefulSets: map[string]*appsv1.StatefulSet{},
		jobs: map[string]*batchv1.Job{}, claims: map[string]*corev1.PersistentVolumeClaim{},
	}
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			where := fmt.Sprintf("%s, document %d", f, i+1)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			var obj interface{ GetName() string }
			var put func() bool
			switch tm.APIVersion + " " + tm.Kind {
			case "v1 ConfigMap":
				obj, put = add(m.configMaps, &corev1.ConfigMap{})
			case "v1 Service":
				obj, put = add(m.services, &corev1.Service{})
			case "v1 PersistentVolumeClaim":
				obj, put = add(m.claims, &corev1.PersistentVolumeClaim{})
			case "apps/v1 Deployment":
				obj, put = add(m.deployments, &appsv1.Deployment{})
			case "apps/v1 StatefulSet":
				obj, put = add(m.statefulSets, &appsv1.StatefulSet{})
			case "batch/v1 Job":
				obj, put = add(m.jobs, &batchv1.Job{})
			default:
				t.Fatalf("%s: unexpected %s %s", where, tm.APIVersion, tm.Kind)
			}
			// Strict: unknown and duplicate fields are errors.
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if obj.GetName() == "" {
				t.Fatalf("%s: no metadata.name", where)
			}
			if !put() {
				t.Fatalf("%s: a second %s named %s", where, tm.Kind, obj.GetName())
			}
		}
	}
	return m
}

// add returns a new object of a map's type and the function that files it
// under its name once decoded (false: the name is taken).
func add[T interface{ GetName() string }](into map[string]T, obj T) (T, func() bool) {
	return obj, func() bool {
		if _, dup := into[obj.GetName()]; dup {
			return false
		}
		into[obj.GetName()] = obj
		return true
	}
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// redirlabBin is the redirlab binary built from this tree by TestMain.
var redirlabBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "redirlab-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	redirlabBin = filepath.Join(dir, "redirlab")
	build := exec.Command("go", "build", "-o", redirlabBin, "./cmd/redirlab")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building redirlab: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// flagSpec is what `redirlab CMD --help` documents: each flag by name and
// alias (as written, "--target", "-t"), with its name and whether it takes
// a value.
type flagSpec map[string]flagInfo

type flagInfo struct {
	name  string // "target"
	takes bool
}

var helpFlag = regexp.MustCompile(`^\s+(--?[a-z][a-z0-9-]*)( value)?((?:, -{1,2}[a-z][a-z0-9-]*(?: value)?)*)`)

func commandFlags(t *testing.T, cmd string) flagSpec {
	t.Helper()
	out, err := exec.Command(redirlabBin, cmd, "--help").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("redirlab "+cmd)) {
		t.Errorf("redirlab %s --help: not a redirlab command (%v):\n%s", cmd, err, out)
		return nil
	}
	spec := flagSpec{}
	for _, line := range strings.Split(string(out), "\n") {
		mm := helpFlag.FindStringSubmatch(line)
		if mm == nil {
			continue
		}
		f := flagInfo{name: strings.TrimLeft(mm[1], "-"), takes: mm[2] != ""}
		spec[mm[1]] = f
		for _, alias := range strings.Split(mm[3], ",") {
			if a := strings.Fields(alias); len(a) > 0 {
				spec[a[0]] = f
			}
		}
	}
	if len(spec) == 0 {
		t.Fatalf("redirlab %s --help lists no flags:\n%s", cmd, out)
	}
	return spec
}

// invocation is one redirlab command line a container runs.
type invocation struct {
	where string
	cmd   string
	args  []string // positional arguments
	flags map[string][]string
}

func (in *invocation) flag(t *testing.T, name string) string {
	t.Helper()
	v := in.flags[name]
	if len(v) != 1 {
		t.Errorf("%s: want one %s, got %q", in.where, name, v)
		return ""
	}
	return v[0]
}

// invocations finds the redirlab command lines of a container: its args
// under the image's entrypoint, or the lines of a /busybox/sh -c script
// that run the binary.
func invocations(t *testing.T, where string, c *corev1.Container) [][]string {
	t.Helper()
	switch {
	case len(c.Command) == 0:
		return [][]string{c.Args}
	case len(c.Command) == 3 && c.Command[0] == "/busybox/sh" && c.Command[1] == "-c" && len(c.Args) == 0:
		var out [][]string
		for _, seg := range regexp.MustCompile(`\n|;|&&|\|\|`).Split(c.Command[2], -1) {
			f := strings.Fields(seg)
			if i := slices.Index(f, binary); i >= 0 {
				out = append(out, f[i+1:])
			} else if slices.ContainsFunc(f, func(s string) bool { return strings.Contains(s, "redirlab") && strings.HasPrefix(s, "/") }) {
				t.Errorf("%s: runs redirlab by another path than %s", where, binary)
			}
		}
		if len(out) == 0 {
			t.Errorf("%s: the script never runs %s", where, binary)
		}
		return out
	default:
		t.Errorf("%s: command %q: want the image's entrypoint or /busybox/sh -c SCRIPT", where, c.Command)
		return nil
	}
}

func parseInvocation(t *testing.T, where string, words []string, specs map[string]flagSpec) *invocation {
	t.Helper()
	if len(words) == 0 {
		t.Errorf("%s: no redirlab subcommand", where)
		return &invocation{where: where, flags: map[string][]string{}}
	}
	spec, ok := specs[words[0]]
	if !ok {
		spec = commandFlags(t, words[0])
		specs[words[0]] = spec
	}
	in, problems := parseWords(words, spec)
	in.where = where
	for _, p := range problems {
		t.Errorf("%s: %s", where, p)
	}
	return in
}

// parseWords reads a command line (the subcommand first) by the flags
// its --help documents, as urfave/cli would, and says what it would
// refuse. A nil spec (an unknown subcommand, already an error) takes
// every flag.
func parseWords(words []string, spec flagSpec) (*invocation, []string) {
	in := &invocation{cmd: words[0], flags: map[string][]string{}}
	var problems []string
	for i := 1; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") {
			in.args = append(in.args, w)
			continue
		}
		name, value, hasValue := strings.Cut(w, "=")
		f, known := spec[name]
		if spec == nil {
			f, known = flagInfo{name: strings.TrimLeft(name, "-"), takes: true}, true
		}
		if !known {
			problems = append(problems, fmt.Sprintf("redirlab %s has no flag %s (see redirlab %s --help)", in.cmd, name, in.cmd))
			continue
		}
		if f.takes && !hasValue {
			if i+1 == len(words) {
				problems = append(problems, fmt.Sprintf("%s needs a value", name))
				continue
			}
			i++
			value = words[i]
		} else if !f.takes && hasValue {
			problems = append(problems, fmt.Sprintf("%s takes no value", name))
		}
		in.flags[f.name] = append(in.flags[f.name], value)
	}
	return in, problems
}

// pod is one pod template with the redirlab command lines it runs.
type pod struct {
	where string
	spec  *corev1.PodSpec
	runs  []*invocation
}

var k8sVar = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

func (m *manifests) pods(t *testing.T, specs map[string]flagSpec) map[string]*pod {
	out := map[string]*pod{}
	addPod := func(kind, name string, ps *corev1.PodSpec) {
		p := &pod{where: kind + "/" + name, spec: ps}
		for _, c := range ps.Containers {
			where := p.where + " container " + c.Name
			env := map[string]bool{}
			for _, e := range c.Env {
				env[e.Name] = true
			}
			for _, a := range c.Args {
				for _, mm := range k8sVar.FindAllStringSubmatch(a, -1) {
					if !env[mm[1]] {
						t.Errorf("%s: $(%s) is not one of the container's env", where, mm[1])
					}
				}
			}
			for _, words := range invocations(t, where, &c) {
				p.runs = append(p.runs, parseInvocation(t, where, words, specs))
			}
		}
		out[p.where] = p
	}
	for n, d := range m.deployments {
		addPod("deployment", n, &d.Spec.Template.Spec)
	}
	for n, s := range m.statefulSets {
		addPod("statefulset", n, &s.Spec.Template.Spec)
	}
	for n, j := range m.jobs {
		addPod("job", n, &j.Spec.Template.Spec)
	}
	return out
}

// mountOf finds the volume a container path lies in: the mount, its
// volume, and the path inside the volume.
func mountOf(ps *corev1.PodSpec, path string) (*corev1.VolumeMount, *corev1.Volume, string) {
	for _, c := range ps.Containers {
		for i := range c.VolumeMounts {
			vm := &c.VolumeMounts[i]
			rest, ok := strings.CutPrefix(path, vm.MountPath)
			if !ok || (rest != "" && rest[0] != '/') {
				continue
			}
			for j := range ps.Volumes {
				if ps.Volumes[j].Name == vm.Name {
					if vm.SubPath != "" {
						rest = "/" + vm.SubPath + rest
					}
					return vm, &ps.Volumes[j], strings.TrimPrefix(rest, "/")
				}
			}
		}
	}
	return nil, nil, ""
}

// servicePort resolves a Service's port into the container port of the
// pods it selects.
func servicePort(t *testing.T, svc *corev1.Service, ps *corev1.PodSpec) (port int32, target int32) {
	t.Helper()
	if len(svc.Spec.Ports) != 1 {
		t.Fatalf("service %s: want one port, got %d", svc.Name, len(svc.Spec.Ports))
	}
	sp := svc.Spec.Ports[0]
	for _, c := range ps.Containers {
		for _, cp := range c.Ports {
			if sp.TargetPort.StrVal == cp.Name && cp.Name != "" || sp.TargetPort.IntVal == cp.ContainerPort {
				return sp.Port, cp.ContainerPort
			}
		}
	}
	t.Fatalf("service %s: target port %s is no container port of the pods it selects", svc.Name, sp.TargetPort.String())
	return 0, 0
}

func selects(svc *corev1.Service, labels map[string]string) bool {
	if len(svc.Spec.Selector) == 0 {
		return false
	}
	for k, v := range svc.Spec.Selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func listenPort(t *testing.T, in *invocation, wantHost string) int32 {
	t.Helper()
	l := in.flag(t, "listen")
	host, port, ok := strings.Cut(l, ":")
	if !ok || host != wantHost {
		t.Errorf("%s: --listen %q: want %s:PORT", in.where, l, wantHost)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Errorf("%s: --listen %q: %v", in.where, l, err)
	}
	return int32(n)
}

func TestManifests(t *testing.T) {
	m := loadManifests(t)
	specs := map[string]flagSpec{}
	pods := m.pods(t, specs)

	// The scenario: a ConfigMap every invocation reads, valid to redirlab,
	// with one group of servers.
	cm := m.configMaps["redirlab-scenario"]
	if cm == nil {
		t.Fatal("no ConfigMap redirlab-scenario")
	}
	scenarioFile := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(scenarioFile, []byte(cm.Data["scenario.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(redirlabBin, "validate", scenarioFile).CombinedOutput(); err != nil {
		t.Fatalf("redirlab validate of the ConfigMap's scenario.yaml: %v\n%s", err, out)
	}
	var sc struct {
		Servers []struct {
			Name  string
			Count int
		}
	}
	if err := yaml.Unmarshal([]byte(cm.Data["scenario.yaml"]), &sc); err != nil {
		t.Fatal(err)
	}
	if len(sc.Servers) != 1 {
		t.Fatalf("the scenario has %d server groups; one StatefulSet runs one group", len(sc.Servers))
	}
	group := sc.Servers[0]

	// The manager: one pod, one Service.
	if len(m.deployments) != 1 {
		t.Fatalf("want one Deployment (the manager), got %d", len(m.deployments))
	}
	var mgr *appsv1.Deployment
	for _, d := range m.deployments {
		mgr = d
	}
	mgrPod := pods["deployment/"+mgr.Name]
	if mgr.Spec.Replicas == nil || *mgr.Spec.Replicas != 1 {
		t.Errorf("deployment %s: want 1 replica", mgr.Name)
	}
	if len(mgrPod.runs) != 1 || mgrPod.runs[0].cmd != "manager" {
		t.Fatalf("deployment %s: want one redirlab manager", mgr.Name)
	}
	mgrRun := mgrPod.runs[0]
	mgrListen := listenPort(t, mgrRun, "0.0.0.0")
	var mgrSvc *corev1.Service
	for _, s := range m.services {
		if selects(s, mgr.Spec.Template.Labels) {
			mgrSvc = s
		}
	}
	if mgrSvc == nil {
		t.Fatalf("no Service selects the manager's pods")
	}
	if !selects(&corev1.Service{Spec: corev1.ServiceSpec{Selector: mgr.Spec.Selector.MatchLabels}}, mgr.Spec.Template.Labels) {
		t.Errorf("deployment %s: its selector does not match its pods", mgr.Name)
	}
	svcPort, target := servicePort(t, mgrSvc, mgrPod.spec)
	if target != mgrListen {
		t.Errorf("the manager listens on %d, its Service sends to %d", mgrListen, target)
	}
	managerURL := fmt.Sprintf("http://%s:%d", mgrSvc.Name, svcPort)
	if allow := mgrRun.flag(t, "allow"); allow != "$(POD_NETWORK)" {
		t.Errorf("manager --allow %q: want $(POD_NETWORK), the ConfigMap's pod-network", allow)
	}
	if cm.Data["pod-network"] == "" {
		t.Errorf("ConfigMap %s: no pod-network", cm.Name)
	}

	// The servers: a StatefulSet whose pod names are the instance names.
	if len(m.statefulSets) != 1 {
		t.Fatalf("want one StatefulSet (the servers), got %d", len(m.statefulSets))
	}
	var sts *appsv1.StatefulSet
	for _, s := range m.statefulSets {
		sts = s
	}
	stsPod := pods["statefulset/"+sts.Name]
	if sts.Name != group.Name {
		t.Errorf("statefulset %s: its pods %s-N must be the scenario's servers %s-N", sts.Name, sts.Name, group.Name)
	}
	if sts.Spec.Replicas == nil || int(*sts.Spec.Replicas) != group.Count {
		t.Errorf("statefulset %s: replicas must be the scenario's %d servers", sts.Name, group.Count)
	}
	if sts.Spec.Ordinals == nil || sts.Spec.Ordinals.Start != 1 {
		t.Errorf("statefulset %s: ordinals must start at 1, as instance names do", sts.Name)
	}
	headless := m.services[sts.Spec.ServiceName]
	if headless == nil || headless.Spec.ClusterIP != corev1.ClusterIPNone || !selects(headless, sts.Spec.Template.Labels) {
		t.Fatalf("statefulset %s: serviceName %q must be a headless Service selecting its pods", sts.Name, sts.Spec.ServiceName)
	}
	if len(stsPod.runs) != 1 || stsPod.runs[0].cmd != "serve" {
		t.Fatalf("statefulset %s: want one redirlab serve", sts.Name)
	}
	serve := stsPod.runs[0]
	if s := serve.flag(t, "server"); s != "$(POD_NAME)" {
		t.Errorf("serve --server %q: want $(POD_NAME)", s)
	}
	if s := serve.flag(t, "manager"); s != managerURL {
		t.Errorf("serve --manager %q: want the manager's Service, %s", s, managerURL)
	}
	serverListen := listenPort(t, serve, "$(POD_IP)")
	for _, c := range stsPod.spec.Containers {
		for _, e := range c.Env {
			want := map[string]string{"POD_NAME": "metadata.name", "POD_IP": "status.podIP"}[e.Name]
			if want != "" && (e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != want) {
				t.Errorf("statefulset %s: env %s must come from %s", sts.Name, e.Name, want)
			}
		}
	}
	serverPort, serverTarget := servicePort(t, headless, stsPod.spec)
	if serverTarget != serverListen || serverPort != serverListen {
		t.Errorf("servers listen on %d; Service %s has port %d to %d (the redirects name the pods' own port, so both must agree)",
			serverListen, headless.Name, serverPort, serverTarget)
	}
	var targets []string
	for i := 0; i < group.Count; i++ {
		targets = append(targets, fmt.Sprintf("http://%s-%d.%s:%d", sts.Name, int(sts.Spec.Ordinals.Start)+i, headless.Name, serverPort))
	}

	// The shards: an Indexed Job whose completion index is the shard.
	shardJob := m.jobs["redirlab-loadgen"]
	if shardJob == nil {
		t.Fatal("no Job redirlab-loadgen")
	}
	shardPod := pods["job/"+shardJob.Name]
	if shardJob.Spec.CompletionMode == nil || *shardJob.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("job %s: want completionMode Indexed", shardJob.Name)
	}
	if shardJob.Spec.Completions == nil || shardJob.Spec.Parallelism == nil || *shardJob.Spec.Completions != *shardJob.Spec.Parallelism {
		t.Fatalf("job %s: completions and parallelism must be set and equal (the shards start together)", shardJob.Name)
	}
	shards := int(*shardJob.Spec.Completions)
	if shards < 2 {
		t.Errorf("job %s: %d shards", shardJob.Name, shards)
	}
	if len(shardPod.runs) != 1 || shardPod.runs[0].cmd != "loadgen" {
		t.Fatalf("job %s: want one redirlab loadgen", shardJob.Name)
	}
	lg := shardPod.runs[0]
	if s, want := lg.flag(t, "shard"), fmt.Sprintf("$((JOB_COMPLETION_INDEX+1))/%d", shards); s != want {
		t.Errorf("loadgen --shard %q: want %q (the Job has %d completions)", s, want, shards)
	}
	if s := lg.flag(t, "manager"); s != managerURL {
		t.Errorf("loadgen --manager %q: want the manager's Service, %s", s, managerURL)
	}
	if !slices.Equal(lg.flags["target"], targets) {
		t.Errorf("loadgen --target %q: want the servers in order, %q", lg.flags["target"], targets)
	}
	shardOut := lg.flag(t, "out")
	outDir, ok := strings.CutSuffix(shardOut, "$((JOB_COMPLETION_INDEX+1))")
	if !ok {
		t.Errorf("loadgen --out %q: want a directory per shard, ending in $((JOB_COMPLETION_INDEX+1))", shardOut)
	}
	for _, j := range []*batchv1.Job{shardJob} {
		ps := j.Spec.Template.Spec
		if ps.RestartPolicy != corev1.RestartPolicyNever || j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 {
			t.Errorf("job %s: a shard must not be retried (restartPolicy Never, backoffLimit 0)", j.Name)
		}
	}
	_, shardVol, _ := mountOf(shardPod.spec, shardOut)
	if shardVol == nil || shardVol.PersistentVolumeClaim == nil || m.claims[shardVol.PersistentVolumeClaim.ClaimName] == nil {
		t.Fatalf("loadgen --out %s: not on a PersistentVolumeClaim of the manifests", shardOut)
	}

	// The merge: the shards' directories, on the same claim.
	mergeJob := m.jobs["redirlab-merge"]
	if mergeJob == nil {
		t.Fatal("no Job redirlab-merge")
	}
	mergePod := pods["job/"+mergeJob.Name]
	if len(mergePod.runs) != 1 || mergePod.runs[0].cmd != "merge" {
		t.Fatalf("job %s: want one redirlab merge", mergeJob.Name)
	}
	merge := mergePod.runs[0]
	var wantIn []string
	for i := 1; i <= shards; i++ {
		wantIn = append(wantIn, fmt.Sprintf("%s%d", outDir, i))
	}
	if !slices.Equal(merge.args, wantIn) {
		t.Errorf("merge reads %q: want the %d shards' directories %q", merge.args, shards, wantIn)
	}
	script := mergePod.spec.Containers[0].Command[2]
	for _, d := range wantIn {
		if !strings.Contains(script, d+"/summary.json") {
			t.Errorf("job %s: does not wait for %s/summary.json", mergeJob.Name, d)
		}
	}
	_, mergeVol, _ := mountOf(mergePod.spec, wantIn[0])
	if mergeVol == nil || mergeVol.PersistentVolumeClaim == nil || mergeVol.PersistentVolumeClaim.ClaimName != shardVol.PersistentVolumeClaim.ClaimName {
		t.Errorf("job %s: does not read the shards' claim %s", mergeJob.Name, shardVol.PersistentVolumeClaim.ClaimName)
	}
	if out := merge.flag(t, "out"); slices.Contains(wantIn, out) || !strings.HasPrefix(out, strings.TrimSuffix(outDir, "shard-")) {
		t.Errorf("merge --out %q: want a directory of its own on the claim", out)
	}

	// Every part: the token from one Secret, the scenario from the
	// ConfigMap, the one image, non-root.
	secrets := map[string]bool{}
	for _, p := range pods {
		if p.spec.SecurityContext == nil || p.spec.SecurityContext.RunAsNonRoot == nil || !*p.spec.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: want runAsNonRoot", p.where)
		}
		for _, c := range p.spec.Containers {
			if c.Image != "redirlab:latest" {
				t.Errorf("%s: image %q: want redirlab:latest, the Dockerfile's", p.where, c.Image)
			}
		}
		for _, in := range p.runs {
			if in.cmd == "merge" {
				continue
			}
			if len(in.args) != 1 {
				t.Errorf("%s: redirlab %s takes one SCENARIO, got %q", in.where, in.cmd, in.args)
				continue
			}
			if _, vol, key := mountOf(p.spec, in.args[0]); vol == nil || vol.ConfigMap == nil || vol.ConfigMap.Name != cm.Name || key != "scenario.yaml" {
				t.Errorf("%s: scenario %s is not the ConfigMap %s's scenario.yaml", in.where, in.args[0], cm.Name)
			}
			tok := in.flag(t, "token-file")
			_, vol, key := mountOf(p.spec, tok)
			if vol == nil || vol.Secret == nil || key != "token" {
				t.Errorf("%s: --token-file %s is not the key token of a Secret", in.where, tok)
				continue
			}
			secrets[vol.Secret.SecretName] = true
		}
	}
	if len(secrets) != 1 {
		t.Fatalf("the parts read their token from %d Secrets, want one: %v", len(secrets), secrets)
	}
	for s := range secrets {
		readme, err := os.ReadFile("../README.md")
		if err != nil {
			t.Fatal(err)
		}
		if want := "kubectl create secret generic " + s + " --from-file=token="; !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README.md does not make the Secret the manifests read: no %q", want)
		}
	}
}

// TestDockerfile checks the image the manifests run: a static binary at
// the path the scripts call, a non-root user, and the shell they need.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	stages := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: want a build stage and a final stage, got %d stages", len(stages))
	}
	if final := stages[len(stages)-1][1]; !strings.HasPrefix(final, "gcr.io/distroless/static") || !strings.Contains(final, "debug") {
		t.Errorf("Dockerfile: final image %s: want distroless static's debug variant (the Jobs run /busybox/sh)", final)
	}
	for _, want := range []string{"CGO_ENABLED=0", `ENTRYPOINT ["` + binary + `"]`, "COPY --from=build /out/redirlab " + binary} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile: no %q", want)
		}
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1][1], "0") || strings.HasPrefix(users[len(users)-1][1], "root") {
		t.Errorf("Dockerfile: the final image must run as a non-root USER")
	}
}

// TestFlagCheckCatches: the check refuses what redirlab would, on the
// flags of the binary's own --help.
func TestFlagCheckCatches(t *testing.T) {
	spec := commandFlags(t, "loadgen")
	for _, c := range []struct {
		words []string
		want  string // a problem, or "" for none
	}{
		// A flag loadgen does not have.
		{[]string{"loadgen", "s.yaml", "--no-such-flag", "x"}, "has no flag --no-such-flag"},
		// A flag that needs a value, last.
		{[]string{"loadgen", "s.yaml", "--out"}, "--out needs a value"},
		// A boolean flag given a value.
		{[]string{"loadgen", "s.yaml", "--quiet=yes"}, "--quiet takes no value"},
		// Aliases and both value forms are fine.
		{[]string{"loadgen", "s.yaml", "-t", "http://a:1", "--target=http://b:1", "-q"}, ""},
	} {
		in, problems := parseWords(c.words, spec)
		got := strings.Join(problems, "; ")
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%q: problems %q, want %q", c.words, got, c.want)
		}
		if c.want == "" && (!slices.Equal(in.flags["target"], []string{"http://a:1", "http://b:1"}) || len(in.flags["quiet"]) != 1 || !slices.Equal(in.args, []string{"s.yaml"})) {
			t.Errorf("%q: read as %+v", c.words, in)
		}
	}
}
