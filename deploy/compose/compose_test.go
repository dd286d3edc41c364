// Package compose tests compose.yaml with the Compose specification's own
// loader and schema.
package compose

import (
	"context"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/procurations/procuration/deploy/internal/settings"
)

func load(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"}, cli.WithName("procuration"), cli.WithOsEnv)
	if err != nil {
		t.Fatal(err)
	}
	// The schema check is on by default; a misspelt key fails the load.
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTheComposeStack(t *testing.T) {
	p := load(t)
	for _, name := range []string{"postgresql", "temporal", "temporal-setup", "temporal-ui", "smtp", "migrate", "api", "worker"} {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
	}
	worker, _ := p.GetService("worker")
	if worker.Deploy == nil || worker.Deploy.Replicas == nil || *worker.Deploy.Replicas != 2 {
		t.Error("two worker replicas expected")
	}
	temporal, _ := p.GetService("temporal")
	if !strings.HasPrefix(temporal.Image, "temporalio/auto-setup:") || *temporal.Environment["DB"] != "postgres12" {
		t.Errorf("Temporal on PostgreSQL expected: %s %v", temporal.Image, temporal.Environment)
	}
	migrate, _ := p.GetService("migrate")
	if strings.Join(migrate.Command, " ") != "migrate" {
		t.Errorf("migrate runs %v", migrate.Command)
	}
	api, _ := p.GetService("api")
	if api.DependsOn["migrate"].Condition != types.ServiceConditionCompletedSuccessfully {
		t.Error("the API waits for the migration to finish")
	}
	for _, name := range []string{"api", "worker"} {
		s, _ := p.GetService(name)
		if s.Image != worker.Image || strings.Join(s.Command, " ") != name {
			t.Errorf("%s: image %s command %v", name, s.Image, s.Command)
		}
	}
}

// The procuration services are given only variables the binary reads.
func TestTheComposeSettingsAreTheBinarys(t *testing.T) {
	p := load(t)
	known := settings.Names()
	for _, name := range []string{"api", "worker", "migrate"} {
		s, _ := p.GetService(name)
		if len(s.Environment) < 2 {
			t.Errorf("%s: no settings", name)
		}
		for k := range s.Environment {
			if !known[k] {
				t.Errorf("%s: %s is not a setting of the binary (procuration settings)", name, k)
			}
		}
	}
}
