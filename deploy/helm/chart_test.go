// Package helm tests the chart in procuration/: rendered with helm's own
// engine, every manifest decoded strictly into the Kubernetes API types.
package helm

import (
	"io"
	"log"
	"os"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"

	"github.com/procurations/procuration/deploy/internal/settings"
)

type rendered struct {
	deployments []appsv1.Deployment
	jobs        []batchv1.Job
	configMaps  []corev1.ConfigMap
	secrets     []corev1.Secret
	services    []corev1.Service
	pdbs        []policyv1.PodDisruptionBudget
}

// secretValues are what an install must give when it names no existing
// Secret.
var secretValues = map[string]any{"secrets": map[string]any{"values": map[string]any{
	"DATABASE_URL":    "postgres://procuration:secret@postgresql:5432/procuration?sslmode=require",
	"FINGERPRINT_KEY": "a-test-fingerprint-key-of-32-characters-at-least",
}}}

func render(t *testing.T, overrides map[string]any) rendered {
	t.Helper()
	files, err := renderFiles(overrides)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, files)
}

func renderFiles(overrides map[string]any) (map[string]string, error) {
	// The loader logs each symbolic link it follows (files/ links to
	// deploy/temporal/, the one copy of the attributes): expected here.
	log.SetOutput(io.Discard)
	defer log.SetOutput(os.Stderr)
	chart, err := loader.Load("procuration")
	if err != nil {
		return nil, err
	}
	vals, err := chartutil.ToRenderValues(chart, overrides, chartutil.ReleaseOptions{Name: "procu", Namespace: "elections", IsInstall: true}, nil)
	if err != nil {
		return nil, err
	}
	return engine.Render(chart, vals)
}

func decode(t *testing.T, files map[string]string) rendered {
	t.Helper()
	var out rendered
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasSuffix(name, ".tpl") {
			continue
		}
		for _, doc := range strings.Split(files[name], "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var meta struct{ Kind string }
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// UnmarshalStrict: a misspelt or misplaced field fails here,
			// as the API server would refuse it.
			var err error
			switch meta.Kind {
			case "Deployment":
				var d appsv1.Deployment
				err = yaml.UnmarshalStrict([]byte(doc), &d)
				out.deployments = append(out.deployments, d)
			case "Job":
				var j batchv1.Job
				err = yaml.UnmarshalStrict([]byte(doc), &j)
				out.jobs = append(out.jobs, j)
			case "ConfigMap":
				var c corev1.ConfigMap
				err = yaml.UnmarshalStrict([]byte(doc), &c)
				out.configMaps = append(out.configMaps, c)
			case "Secret":
				var s corev1.Secret
				err = yaml.UnmarshalStrict([]byte(doc), &s)
				out.secrets = append(out.secrets, s)
			case "Service":
				var s corev1.Service
				err = yaml.UnmarshalStrict([]byte(doc), &s)
				out.services = append(out.services, s)
			case "PodDisruptionBudget":
				var p policyv1.PodDisruptionBudget
				err = yaml.UnmarshalStrict([]byte(doc), &p)
				out.pdbs = append(out.pdbs, p)
			default:
				t.Fatalf("%s: unexpected kind %q", name, meta.Kind)
			}
			if err != nil {
				t.Fatalf("%s (%s): %v", name, meta.Kind, err)
			}
		}
	}
	return out
}

func TestTheChartRendersValidManifests(t *testing.T) {
	r := render(t, secretValues)
	if len(r.deployments) != 2 || len(r.jobs) != 2 || len(r.pdbs) != 2 || len(r.services) != 1 || len(r.secrets) != 1 {
		t.Fatalf("rendered %d deployments, %d jobs, %d PDBs, %d services, %d secrets",
			len(r.deployments), len(r.jobs), len(r.pdbs), len(r.services), len(r.secrets))
	}
	byName := map[string]appsv1.Deployment{}
	for _, d := range r.deployments {
		byName[d.Name] = d
		pod := d.Spec.Template.Spec
		if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot ||
			pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser == 0 {
			t.Errorf("%s: no non-root pod securityContext", d.Name)
		}
		c := pod.Containers[0]
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: resources missing: %+v", d.Name, c.Resources)
		}
		if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation ||
			c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
			t.Errorf("%s: container securityContext too loose", d.Name)
		}
		if !strings.HasPrefix(c.Image, "procuration:") {
			t.Errorf("%s: image %q", d.Name, c.Image)
		}
		selected := false
		for _, p := range r.pdbs {
			if p.Spec.Selector.MatchLabels["app.kubernetes.io/component"] == d.Spec.Template.Labels["app.kubernetes.io/component"] {
				selected = true
			}
		}
		if !selected {
			t.Errorf("%s: no PodDisruptionBudget selects it", d.Name)
		}
	}
	api := byName["procu-api"].Spec.Template.Spec.Containers[0]
	if api.ReadinessProbe == nil || api.ReadinessProbe.HTTPGet == nil || api.ReadinessProbe.HTTPGet.Path != "/healthz" ||
		api.LivenessProbe == nil || api.LivenessProbe.HTTPGet == nil || api.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("API probes: readiness %+v liveness %+v", api.ReadinessProbe, api.LivenessProbe)
	}
	if strings.Join(api.Args, " ") != "api" || strings.Join(byName["procu-worker"].Spec.Template.Spec.Containers[0].Args, " ") != "worker" {
		t.Error("roles: the API and the worker Deployments run the api and worker subcommands")
	}

	jobs := map[string]batchv1.Job{}
	for _, j := range r.jobs {
		jobs[j.Name] = j
		if !strings.Contains(j.Annotations["helm.sh/hook"], "pre-install") || !strings.Contains(j.Annotations["helm.sh/hook"], "pre-upgrade") {
			t.Errorf("%s: not a pre-install/pre-upgrade hook: %v", j.Name, j.Annotations)
		}
		if sc := j.Spec.Template.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: not non-root", j.Name)
		}
	}
	if strings.Join(jobs["procu-migrate"].Spec.Template.Spec.Containers[0].Args, " ") != "migrate" {
		t.Error("the migration Job does not run `procuration migrate`")
	}
	if _, ok := jobs["procu-temporal-setup"]; !ok {
		t.Fatal("no namespace and search-attribute Job")
	}
	attrs, err := os.ReadFile("../temporal/search-attributes.txt")
	if err != nil {
		t.Fatal(err)
	}
	var setup *corev1.ConfigMap
	for i := range r.configMaps {
		if r.configMaps[i].Name == "procu-search-attributes" {
			setup = &r.configMaps[i]
		}
	}
	if setup == nil || strings.TrimSpace(setup.Data["search-attributes.txt"]) != strings.TrimSpace(string(attrs)) ||
		!strings.Contains(setup.Data["register-search-attributes.sh"], "search-attribute create") {
		t.Error("the setup Job's ConfigMap does not carry deploy/temporal's attributes and script")
	}
}

// Every setting the chart passes is one the binary reads, and the chart
// passes what a production deployment must set.
func TestTheChartPassesTheBinarysSettings(t *testing.T) {
	r := render(t, secretValues)
	known := settings.Names()
	var set []string
	for _, c := range r.configMaps {
		if c.Name == "procu-settings" {
			for k := range c.Data {
				set = append(set, k)
			}
		}
	}
	var secret corev1.Secret
	for _, s := range r.secrets {
		secret = s
		for k := range s.StringData {
			set = append(set, k)
		}
	}
	if len(set) < 10 {
		t.Fatalf("settings rendered: %v", set)
	}
	for _, k := range set {
		if !known[k] {
			t.Errorf("%s is not a setting of the binary (procuration settings)", k)
		}
	}
	for _, k := range []string{"DATABASE_URL", "FINGERPRINT_KEY"} {
		if secret.StringData[k] == "" {
			t.Errorf("%s not in the Secret", k)
		}
	}
}

func TestTheWorkerIsProbedWhereItServesHealth(t *testing.T) {
	r := render(t, map[string]any{"secrets": secretValues["secrets"],
		"worker": map[string]any{"health": map[string]any{"port": 9090, "path": "/healthz"}}})
	for _, d := range r.deployments {
		if d.Name != "procu-worker" {
			continue
		}
		c := d.Spec.Template.Spec.Containers[0]
		if c.ReadinessProbe == nil || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Port.String() != "health" || c.Ports[0].ContainerPort != 9090 {
			t.Errorf("worker probes: %+v %+v", c.ReadinessProbe, c.LivenessProbe)
		}
		return
	}
	t.Fatal("no worker Deployment")
}

// Without its secrets the chart refuses to render rather than start a
// deployment on the public development key; with an existing Secret it
// renders none.
func TestTheChartWantsItsSecrets(t *testing.T) {
	if _, err := renderFiles(nil); err == nil || !strings.Contains(err.Error(), "FINGERPRINT_KEY") && !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("rendered without DATABASE_URL and FINGERPRINT_KEY: %v", err)
	}
	r := render(t, map[string]any{"secrets": map[string]any{"existingSecret": "procuration-settings"}})
	if len(r.secrets) != 0 {
		t.Errorf("%d Secrets rendered beside an existing one", len(r.secrets))
	}
	for _, d := range r.deployments {
		if d.Spec.Template.Spec.Containers[0].EnvFrom[1].SecretRef.Name != "procuration-settings" {
			t.Errorf("%s does not read the existing Secret", d.Name)
		}
	}
}
