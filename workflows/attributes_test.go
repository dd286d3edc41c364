package workflows

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/procurations/procuration/internal/searchattrs"

	"go.temporal.io/api/enums/v1"
)

// The deploy file registers the attributes on clusters; it must list
// exactly those the workflows set, with their types.
func TestDeployListsTheSearchAttributes(t *testing.T) {
	raw, err := os.ReadFile("../deploy/temporal/search-attributes.txt")
	if err != nil {
		t.Fatal(err)
	}
	var deployed []string
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			deployed = append(deployed, line)
		}
	}
	names := map[enums.IndexedValueType]string{
		enums.INDEXED_VALUE_TYPE_KEYWORD: "Keyword", enums.INDEXED_VALUE_TYPE_DATETIME: "Datetime", enums.INDEXED_VALUE_TYPE_INT: "Int",
	}
	var used []string
	for key := range searchattrs.All().GetUntypedValues() {
		used = append(used, key.GetName()+" "+names[key.GetValueType()])
	}
	sort.Strings(deployed)
	sort.Strings(used)
	if strings.Join(deployed, ",") != strings.Join(used, ",") {
		t.Errorf("deploy/temporal/search-attributes.txt lists %v, the workflows use %v", deployed, used)
	}
}
