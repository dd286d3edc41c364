package e2e

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/procurations/procuration/api"
	"github.com/procurations/procuration/internal/auth"
)

// The generator alone, without the stack: every input of every operation
// of the document gets cases from the schema (as an operation added
// tomorrow would, before anyone writes its fixture), and an input it
// cannot fuzz is reported rather than skipped.
func TestFuzzGeneratorCoversEveryInput(t *testing.T) {
	_, humaAPI := api.New(api.Deps{Log: zap.NewNop(), Verifier: auth.NewVerifier("procuration", nil, nil)})
	raw, err := json.Marshal(humaAPI.OpenAPI())
	require.NoError(t, err)
	var doc openAPI
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&doc))

	// A new operation, and one whose body the generator cannot write.
	doc.Paths["/v1/zq/{id}"] = map[string]map[string]any{
		"post": {"operationId": "zq-new", "security": []any{map[string]any{"bearer": []any{}}},
			"parameters": []any{
				map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string", "maxLength": json.Number("40")}},
				map[string]any{"name": "page", "in": "query", "schema": map[string]any{"type": "integer", "minimum": json.Number("1")}},
				map[string]any{"name": "X-Zq", "in": "header", "schema": map[string]any{"type": "string"}},
			},
			"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
				"type": "object", "additionalProperties": false, "required": []any{"who"},
				"properties": map[string]any{
					"who":  map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}},
					"tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
					"ok":   map[string]any{"type": "boolean"},
				}}}}}},
		"put": {"operationId": "zq-upload", "requestBody": map[string]any{"content": map[string]any{
			"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object"}}}}},
	}
	tokens := []string{"", "a-token"}
	uncovered := map[string][]string{}
	for _, op := range doc.operations() {
		g := &gen{doc: &doc, op: op, fx: doc.genericFixture(op, tokens),
			csvHeader: "nne,family_name,given_names,sex,birth_date,commune_code,polling_station", expired: "expired"}
		g.generate()
		require.NotEmpty(t, g.cases, op.id)
		for _, loc := range doc.expected(op) {
			if !g.covered[loc] {
				uncovered[op.id] = append(uncovered[op.id], loc)
			}
		}
		if op.id == "zq-new" {
			require.Greater(t, len(g.cases), 200, "a new operation gets a full table")
		}
	}
	require.Equal(t, map[string][]string{"zq-upload": {"body"}}, uncovered,
		"every input covered, but for the multipart body the generator cannot write")
}
