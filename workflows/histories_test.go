package workflows_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/procurations/procuration/internal/dossier"
	"github.com/procurations/procuration/internal/geo"
	"github.com/procurations/procuration/workers"
)

var record = flag.String("record", "", "record the histories of every workflow's main paths, from a dev server, into this folder "+
	"(testdata/histories/<release>); see `make record-histories`")

// Every history recorded from an earlier release replays with today's
// code: a change to what a workflow does that is not behind
// workflow.GetVersion fails here, before it fails the dossiers in flight
// when the release is promoted (workers.DeploymentOptions: auto-upgrade).
func TestReplayRecordedHistories(t *testing.T) {
	if *record != "" {
		t.Skip("recording")
	}
	files, err := filepath.Glob("testdata/histories/*/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories under testdata/histories: %v", err)
	}
	replayer := worker.NewWorkflowReplayer()
	workers.RegisterWorkflows(replayer, dossier.DefaultPolicy())
	covered := map[string]bool{} // workflow types
	for _, file := range files {
		release := filepath.Base(filepath.Dir(file))
		t.Run(release+"/"+strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			kind, payloads := inspect(t, file)
			covered[kind] = true
			noPersonalData(t, payloads)
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A workflow the worker runs was recorded at least once: a new one
	// gets its histories at the release that brings it.
	var names registered
	workers.RegisterWorkflows(&names, dossier.DefaultPolicy())
	for _, name := range names {
		if !covered[name] {
			t.Errorf("no recorded history of %s under testdata/histories: record this release's (make record-histories)", name)
		}
	}
}

// inspect reads a history's workflow type and the data of its payloads.
func inspect(t *testing.T, file string) (string, []string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Events []struct {
			Attributes struct {
				WorkflowType struct{ Name string }
			} `json:"workflowExecutionStartedEventAttributes"`
		}
	}
	if err := json.Unmarshal(raw, &h); err != nil || len(h.Events) == 0 {
		t.Fatalf("%s: not a history: %v", file, err)
	}
	var payloads []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "data" {
					if b, err := base64.StdEncoding.DecodeString(s); err == nil {
						payloads = append(payloads, string(b))
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var doc any
	_ = json.Unmarshal(raw, &doc)
	walk(doc)
	return h.Events[0].Attributes.WorkflowType.Name, payloads
}

// Histories are committed and shown to support staff: the workflows carry
// references, codes and pseudonymous subjects, never a person's name,
// birth date, voter number or address. (No codec is needed for that; the
// personal data stays in PostgreSQL.)
func noPersonalData(t *testing.T, payloads []string) {
	t.Helper()
	for _, found := range personalData(payloads) {
		t.Error(found)
	}
}

func personalData(payloads []string) []string {
	var forbidden, found []string
	for _, v := range geo.DemoVoters {
		forbidden = append(forbidden, v.NNE, v.FamilyName, v.GivenNames, v.BirthDate.Format("2006-01-02"))
	}
	for _, p := range payloads {
		if strings.Contains(p, "@") {
			found = append(found, fmt.Sprintf("an email address in a payload: %.80s", p))
		}
		for _, f := range forbidden {
			if strings.Contains(p, f) {
				found = append(found, fmt.Sprintf("%q in a payload: %.80s", f, p))
			}
		}
	}
	return found
}

func TestThePersonalDataCheckFindsSome(t *testing.T) {
	if found := personalData([]string{`{"Reference":"K7M2QX"}`, `"DUPONT Marie Claire"`, `"jean@example.fr"`, `"1979-11-03"`}); len(found) != 4 {
		t.Fatalf("%q", found)
	}
}

// registered lists the names a registration gives.
type registered []string

func (r *registered) RegisterWorkflow(any) {
	panic("every workflow is registered under its contract's name")
}
func (r *registered) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	*r = append(*r, o.Name)
}
func (r *registered) RegisterDynamicWorkflow(any, workflow.DynamicRegisterOptions) {}

// writeHistory is shared with the recorder.
var writeMu sync.Mutex

func writeHistory(dir, name string, data []byte) error {
	writeMu.Lock()
	defer writeMu.Unlock()
	var out bytes.Buffer
	if err := json.Indent(&out, data, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	return os.WriteFile(filepath.Join(dir, name+".json"), out.Bytes(), 0o644)
}
