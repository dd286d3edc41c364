package e2e

// The case generator of TestFuzzOpenAPI: it reads the OpenAPI document
// and, for every operation, builds malformed requests from a base request
// (a fixture, or one derived from the schema for an operation the fixtures
// do not know yet).

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// base is a request a role may make. Fuzz cases change one thing in it.
type base struct {
	path   map[string]string
	query  map[string]string
	header map[string]string
	body   any      // a JSON value (maps, slices, strings...), nil for none
	csv    []string // for a text/csv body: the fields of its one line, under the header
	tokens []string // tried in turn; "" sends none
	// doom is the location whose refusal makes this base fail late, after
	// validation (a wrong state, an existing id, consent false...): a case
	// that changes doom uses another base.
	doom string
}

// fixture is how an operation is called: live reaches a real object in a
// state where the action would succeed (only for cases that no operation
// accepts); doomed bases fail late whatever the changed value.
type fixture struct {
	live   *base
	doomed []base
}

func (f fixture) pick(hostile bool, loc string) base {
	if hostile && f.live != nil {
		return f.live.clone()
	}
	for _, b := range f.doomed {
		if b.doom == "" || !(strings.HasPrefix(loc, b.doom) || strings.HasPrefix(b.doom, loc)) {
			return b.clone()
		}
	}
	return f.doomed[0].clone()
}

func (b base) clone() base {
	c := b
	c.path, c.query, c.header = cloneMap(b.path), cloneMap(b.query), cloneMap(b.header)
	c.body = deepCopy(b.body)
	c.csv = append([]string(nil), b.csv...)
	return c
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// fuzzCase is one request.
type fuzzCase struct {
	op, name  string
	method    string
	target    string // escaped path and query
	header    map[string]string
	body      []byte
	hasBody   bool
	token     string
	secured   bool
	authCase  bool     // the case is about the Authorization header itself
	rawHeader string   // a header line Go's client refuses to send: a raw request
	rawTarget bool     // target holds bytes Go's client refuses: a raw request
	needles   []string // what an error answer must not echo
	wildcard  bool     // a LIKE wildcard: a 2xx must list nothing
	hostile   bool
}

// --- values ---

// val is a value for a string field or parameter.
type val struct {
	name    string
	text    string
	hostile bool // refused wherever it goes
	needle  string
	wild    bool
	bodyOK  bool // only in a JSON body (line breaks are allowed there)
}

const big = 1 << 20

// bigMarker stands for 1 MB of "a" until the request is sent, so that the
// cases do not hold hundreds of megabytes; no escaping changes it.
const bigMarker = "~~ZQ1MB~~"

var bigFill = strings.Repeat("a", big)

func expand(s string) string {
	if strings.Contains(s, bigMarker) {
		return strings.ReplaceAll(s, bigMarker, bigFill)
	}
	return s
}

func expandBytes(b []byte) []byte {
	if bytes.Contains(b, []byte(bigMarker)) {
		return bytes.ReplaceAll(b, []byte(bigMarker), []byte(bigFill))
	}
	return b
}

// runeLen is the length of s once sent.
func runeLen(s string) int {
	n := strings.Count(s, bigMarker)
	return utf8.RuneCountInString(s) - n*len(bigMarker) + n*big
}

var stringCatalogue []val

func stringValues() []val {
	if stringCatalogue == nil {
		stringCatalogue = buildStringValues()
	}
	return stringCatalogue
}

func buildStringValues() []val {
	v := []val{
		{name: "NUL", text: "ZQNUL\x00x", hostile: true, needle: "ZQNUL"},
		{name: "SOH", text: "ZQSOH\x01x", hostile: true, needle: "ZQSOH"},
		{name: "ESC", text: "ZQESC\x1b[31m", hostile: true, needle: "ZQESC"},
		{name: "DEL", text: "ZQDEL\x7fx", hostile: true, needle: "ZQDEL"},
		{name: "C1 NEL", text: "ZQNEL\u0085x", hostile: true, needle: "ZQNEL"},
		{name: "bidi U+202E", text: "ZQBIDI\u202egnp.exe", hostile: true, needle: "ZQBIDI"},
		{name: "zero width", text: "ZQZW\u200bx", hostile: true, needle: "ZQZW"},
		{name: "BOM", text: "\ufeffZQBOM", hostile: true, needle: "ZQBOM"},
		{name: "private use", text: "ZQPUA\ue000", hostile: true, needle: "ZQPUA"},
		{name: "invalid UTF-8", text: "ZQUTF\xffx", hostile: true, needle: "ZQUTF"},
		{name: "overlong UTF-8", text: "ZQOVL\xc0\xafx", hostile: true, needle: "ZQOVL"},
		{name: "truncated UTF-8", text: "ZQTRC\xe2\x82", hostile: true, needle: "ZQTRC"},
		{name: "1 MB string", text: "ZQBIG" + bigMarker, hostile: true, needle: "ZQBIG"},
		{name: "1 MB email", text: "zqbigmail" + bigMarker + "@example.fr", hostile: true, needle: "zqbigmail"},
		{name: "line break", text: "ZQLF\nx", needle: "ZQLF", bodyOK: true},
		{name: "CRLF header injection", text: "zq@example.fr\r\nBcc: zqvictim@example.fr", needle: "zqvictim", bodyOK: true},
		{name: "empty", text: ""},
		{name: "blanks", text: "   "},
		{name: "tab", text: "\t", bodyOK: true},
		{name: "padded", text: "  ZQpad  ", needle: "ZQpad"},
		{name: "%", text: "%", wild: true},
		{name: "_", text: "_", wild: true},
		{name: "%_%", text: "%_%", wild: true},
		{name: "prefix%", text: "1%", wild: true},
		{name: "SQL quote", text: "' OR '1'='1", needle: "' OR '1'='1"},
		{name: "SQL drop", text: "ZQSQL'; DROP TABLE voters; --", needle: "ZQSQL"},
		{name: "SQL sleep", text: "ZQSLP\"); SELECT pg_sleep(3); --", needle: "ZQSLP"},
		{name: "backslash", text: "ZQBS\\", needle: "ZQBS"},
		{name: "email a@b", text: "a@b"},
		{name: "email IP literal", text: "a@[127.0.0.1]", needle: "a@[127.0.0.1]"},
		{name: "email display name", text: "ZQDN <zq@example.fr>", needle: "ZQDN"},
		{name: "date 0000-01-01", text: "0000-01-01", needle: "0000-01-01"},
		{name: "date 9999-12-31", text: "9999-12-31", needle: "9999-12-31"},
		{name: "date 2027-02-30", text: "2027-02-30", needle: "2027-02-30"},
		{name: "date 2027-13-01", text: "2027-13-01", needle: "2027-13-01"},
		{name: "date with time", text: "1985-04-12T00:00:00Z", needle: "1985-04-12T00"},
		{name: "literal %00", text: "%00"},
		{name: "../", text: "../"},
		{name: "path traversal", text: "../../../etc/passwd", needle: "etc/passwd"},
		{name: "GRANTOR", text: "GRANTOR"},
		{name: "script", text: "<script>alert('ZQXSS')</script>", needle: "ZQXSS"},
		{name: "template", text: "{{7*7}}${7*7}ZQTPL", needle: "ZQTPL"},
		{name: "emoji", text: "😀👍"},
		{name: "RTL text", text: "مرحبا"},
		{name: "combining", text: "e\u0301"},
		{name: "number text", text: "-1"},
		{name: "null text", text: "null"},
		{name: "long id 300", text: "m-" + strings.Repeat("z", 298), needle: strings.Repeat("z", 40)},
		{name: "long id 10k", text: "ZQ10K" + strings.Repeat("9", 10000), needle: "ZQ10K"},
	}
	return v
}

func (v val) tooLong(schema map[string]any) bool {
	max, ok := num(schema["maxLength"])
	return ok && runeLen(v.text) > int(max)
}

func notInEnum(schema map[string]any, s string) bool {
	enum, ok := schema["enum"].([]any)
	if !ok {
		return false
	}
	for _, e := range enum {
		if e == s {
			return false
		}
	}
	return true
}

// jsonString encodes s as a JSON string, keeping invalid UTF-8 bytes raw.
func jsonString(s string) string {
	if utf8.ValidString(s) {
		raw, _ := marshal(s)
		return string(raw)
	}
	var b strings.Builder
	b.WriteByte('"')
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n <= 1 {
			b.WriteByte(s[0])
			s = s[1:]
			continue
		}
		enc, _ := json.Marshal(s[:n])
		b.Write(enc[1 : len(enc)-1])
		s = s[n:]
	}
	b.WriteByte('"')
	return b.String()
}

// mut is a JSON value put at one place of a body.
type mut struct {
	name    string
	raw     string // JSON text, possibly invalid
	hostile bool
	needle  string
	wild    bool
}

func types(schema map[string]any) []string {
	switch t := schema["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	if _, ok := schema["properties"]; ok {
		return []string{"object"}
	}
	return nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// mutations lists the values a node of the given schema receives.
func mutations(schema map[string]any, requiredHere bool) []mut {
	ts := types(schema)
	nullable := has(ts, "null")
	var out []mut
	// wrong adds a value of another JSON type than the node's.
	wrong := func(name, raw, kind string) {
		if !has(ts, kind) && !(kind == "integer" && has(ts, "number")) {
			out = append(out, mut{name: name, raw: raw, hostile: true})
		}
	}
	// Huma reads null as absent for an optional property, as the
	// contract's omitempty fields are: only a required one refuses it.
	out = append(out, mut{name: "null", raw: "null", hostile: !nullable && requiredHere})
	switch {
	case has(ts, "string"):
		for _, v := range stringValues() {
			out = append(out, mut{name: v.name, raw: jsonString(v.text), hostile: v.hostile || v.tooLong(schema) || notInEnum(schema, v.text),
				needle: v.needle, wild: v.wild})
		}
		if enum, ok := schema["enum"].([]any); ok {
			for _, e := range enum {
				s := fmt.Sprint(e)
				out = append(out, mut{name: "enum " + s, raw: jsonString(s)},
					mut{name: "enum upper case", raw: jsonString(strings.ToUpper(s)), hostile: true})
			}
		}
		out = append(out,
			mut{name: "raw control byte", raw: "\"ZQRAWCTL\x01\"", hostile: true, needle: "ZQRAWCTL"},
			mut{name: "lone surrogate", raw: `"ZQSURR\ud800"`, hostile: true, needle: "ZQSURR"},
			mut{name: "escaped NUL", raw: `"ZQESCNUL\u0000"`, hostile: true, needle: "ZQESCNUL"})
	case has(ts, "integer") || has(ts, "number"):
		min, hasMin := num(schema["minimum"])
		max, hasMax := num(schema["maximum"])
		for _, n := range []string{"-1", "0", "1", "2", "3", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "1e400", "1.5", "1e3", "-0"} {
			f, _ := strconv.ParseFloat(n, 64)
			out = append(out, mut{name: "number " + n, raw: n,
				hostile: (hasMin && f < min) || (hasMax && f > max) || math.IsInf(f, 0) || (has(ts, "integer") && f != math.Trunc(f)) ||
					math.Abs(f) > 9.2e18})
		}
	case has(ts, "boolean"):
		out = append(out, mut{name: "true", raw: "true"}, mut{name: "false", raw: "false"})
	case has(ts, "array"):
		items, _ := schema["items"].(map[string]any)
		minItems, _ := num(schema["minItems"])
		maxItems, hasMax := num(schema["maxItems"])
		item := `"ZQITEM"`
		if it := types(items); has(it, "integer") {
			item = "1"
		}
		out = append(out, mut{name: "empty array", raw: "[]", hostile: minItems > 0},
			mut{name: "[null]", raw: "[null]", hostile: true},
			mut{name: "[{}]", raw: "[{}]", hostile: true},
			mut{name: "[[]]", raw: "[[]]", hostile: true})
		n := 3
		if hasMax {
			n = int(maxItems) + 1
		}
		out = append(out, mut{name: fmt.Sprintf("%d items", n), raw: "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]",
			hostile: hasMax && n > int(maxItems)})
		if has(types(items), "integer") {
			for _, raw := range []string{"[1,1]", "[2,1]", "[0]", "[3]", "[-1]", "[1,2,3]"} {
				out = append(out, mut{name: raw, raw: raw, hostile: hasMax && strings.Count(raw, ",")+1 > int(maxItems)})
			}
		}
	case has(ts, "object"):
		out = append(out, mut{name: "empty object", raw: "{}", hostile: len(required(schema)) > 0})
	}
	wrong("number for a string", "42", "integer")
	wrong("string for a number", `"ZQNUM"`, "string")
	wrong("boolean for a string", "true", "boolean")
	wrong("object for an array", `{"ZQOBJ":1}`, "object")
	wrong("array for an object", `["ZQARR"]`, "array")
	wrong("string for an object", `"ZQOBJ"`, "string")
	wrong("fraction for an integer", "1.5", "number")
	return out
}

func required(schema map[string]any) []string {
	var out []string
	list, _ := schema["required"].([]any)
	for _, r := range list {
		out = append(out, fmt.Sprint(r))
	}
	return out
}

// --- the document ---

type openAPI struct {
	Paths      map[string]map[string]map[string]any `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	id, method, path string
	secured          bool
	params           []map[string]any
	bodyType         string         // application/json, text/csv, "" for none
	bodySchema       map[string]any // resolved
	bodyRequired     bool
}

func (d *openAPI) resolve(s map[string]any) map[string]any {
	for i := 0; i < 10; i++ {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = d.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	}
	return s
}

func (d *openAPI) operations() []operation {
	var ops []operation
	for path, methods := range d.Paths {
		for method, raw := range methods {
			id, _ := raw["operationId"].(string)
			if id == "" {
				continue
			}
			op := operation{id: id, method: strings.ToUpper(method), path: path}
			sec, _ := raw["security"].([]any)
			op.secured = len(sec) > 0
			params, _ := raw["parameters"].([]any)
			for _, p := range params {
				op.params = append(op.params, p.(map[string]any))
			}
			if rb, ok := raw["requestBody"].(map[string]any); ok {
				op.bodyRequired, _ = rb["required"].(bool)
				content, _ := rb["content"].(map[string]any)
				for ct, media := range content {
					op.bodyType = ct
					schema, _ := media.(map[string]any)["schema"].(map[string]any)
					op.bodySchema = d.resolve(schema)
					break
				}
			}
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].id < ops[j].id })
	return ops
}

// example builds a value of the schema, for operations without a fixture.
func (d *openAPI) example(s map[string]any) any {
	s = d.resolve(s)
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	ts := types(s)
	switch {
	case has(ts, "object"):
		out := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		for _, r := range required(s) {
			if p, ok := props[r].(map[string]any); ok {
				out[r] = d.example(p)
			}
		}
		return out
	case has(ts, "array"):
		items, _ := s["items"].(map[string]any)
		return []any{d.example(items)}
	case has(ts, "string"):
		return "zq"
	case has(ts, "integer"), has(ts, "number"):
		if m, ok := num(s["minimum"]); ok {
			return m
		}
		return 1
	case has(ts, "boolean"):
		return false
	}
	return "zq"
}

// genericFixture calls an operation the fixtures do not know: schema
// examples, and every role in turn.
func (d *openAPI) genericFixture(op operation, allTokens []string) fixture {
	b := base{path: map[string]string{}, query: map[string]string{}, header: map[string]string{}, tokens: allTokens}
	for _, p := range op.params {
		name, _ := p["name"].(string)
		req, _ := p["required"].(bool)
		if req || p["in"] == "path" {
			schema, _ := p["schema"].(map[string]any)
			ex := fmt.Sprint(d.example(schema))
			switch p["in"] {
			case "path":
				b.path[name] = ex
			case "query":
				b.query[name] = ex
			case "header":
				b.header[name] = ex
			}
		}
	}
	switch {
	case op.bodyType == "text/csv":
		b.csv = []string{"zq"}
	case op.bodySchema != nil:
		b.body = d.example(op.bodySchema)
	}
	return fixture{doomed: []base{b}}
}

// --- building requests ---

const placeholder = "ZQPLACEHOLDER"

type gen struct {
	doc       *openAPI
	op        operation
	fx        fixture
	n         int
	cases     []fuzzCase
	csvHeader string
	expired   string // a token past its expiry
	covered   map[string]bool
}

func (g *gen) cover(loc string) {
	if g.covered == nil {
		g.covered = map[string]bool{}
	}
	g.covered[loc] = true
}

// expected lists what the cases of an operation must reach, read from the
// document alone: every parameter, and the body and each node of its schema.
func (d *openAPI) expected(op operation) []string {
	var out []string
	for _, p := range op.params {
		out = append(out, fmt.Sprint(p["in"])+"."+fmt.Sprint(p["name"]))
	}
	if op.bodyType == "" {
		return out
	}
	out = append(out, "body")
	var walk func(s map[string]any, loc []string)
	walk = func(s map[string]any, loc []string) {
		s = d.resolve(s)
		if len(loc) > 0 {
			out = append(out, locString(loc))
		}
		props, _ := s["properties"].(map[string]any)
		for n, p := range props {
			walk(p.(map[string]any), append(append([]string(nil), loc...), n))
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(items, append(append([]string(nil), loc...), "[0]"))
		}
	}
	if op.bodyType == "application/json" || strings.HasSuffix(op.bodyType, "+json") {
		walk(op.bodySchema, nil)
	}
	sort.Strings(out)
	return out
}

// request turns a base into a case; body, when not nil, replaces the base's.
func (g *gen) request(name string, b base, body []byte, hostile bool) *fuzzCase {
	c := fuzzCase{op: g.op.id, name: name, method: g.op.method, header: map[string]string{}, secured: g.op.secured, hostile: hostile}
	path := g.op.path
	for k, v := range b.path {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	c.target = path + encodeQuery(b.query)
	for k, v := range b.header {
		c.header[k] = v
	}
	switch {
	case body != nil:
		c.body, c.hasBody = body, true
	case b.body != nil:
		raw, err := marshal(b.body)
		if err != nil {
			panic(err)
		}
		c.body, c.hasBody = raw, true
		c.header["Content-Type"] = "application/json"
	case b.csv != nil:
		c.body, c.hasBody = []byte(g.csvHeader+"\n"+csvLine(b.csv)), true
		c.header["Content-Type"] = "text/csv"
	}
	if len(b.tokens) > 0 {
		c.token = b.tokens[g.n%len(b.tokens)]
	}
	// Some cases of secured operations go without a token at all.
	if g.op.secured && g.n%11 == 7 {
		c.token = ""
	}
	g.n++
	g.cases = append(g.cases, c)
	return &g.cases[len(g.cases)-1]
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func encodeQuery(q map[string]string) string {
	if len(q) == 0 {
		return ""
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(q[k]))
	}
	return "?" + strings.Join(parts, "&")
}

func csvLine(fields []string) string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(fields)
	w.Flush()
	return buf.String()
}

// bodyWith marshals body with the value at loc replaced by raw (or the
// key deleted when raw is "").
func bodyWith(body any, loc []string, raw string) []byte {
	body = deepCopy(body)
	if len(loc) == 0 {
		return []byte(raw)
	}
	if body == nil {
		body = map[string]any{}
	}
	var set func(node any, rest []string) any
	set = func(node any, rest []string) any {
		seg := rest[0]
		if strings.HasPrefix(seg, "[") {
			arr, _ := node.([]any)
			if len(arr) == 0 {
				arr = []any{nil}
			}
			if len(rest) == 1 {
				arr[0] = placeholder
			} else {
				arr[0] = set(arr[0], rest[1:])
			}
			return arr
		}
		obj, _ := node.(map[string]any)
		if obj == nil {
			obj = map[string]any{}
		}
		if len(rest) == 1 {
			if raw == "" {
				delete(obj, seg)
			} else {
				obj[seg] = placeholder
			}
		} else {
			obj[seg] = set(obj[seg], rest[1:])
		}
		return obj
	}
	body = set(body, loc)
	out, err := marshal(body)
	if err != nil {
		panic(err)
	}
	return bytes.Replace(out, []byte(`"`+placeholder+`"`), []byte(raw), 1)
}

func locString(loc []string) string {
	s := "body"
	for _, seg := range loc {
		if strings.HasPrefix(seg, "[") {
			s += seg
		} else {
			s += "." + seg
		}
	}
	return s
}

// generate builds every case of one operation.
func (g *gen) generate() {
	g.params()
	switch {
	case g.op.bodyType == "application/json" || strings.HasSuffix(g.op.bodyType, "+json"):
		g.walk(g.op.bodySchema, nil, true)
		g.wholeBody()
	case g.op.bodyType == "text/csv":
		g.csvCases()
	default:
		g.strayBody()
	}
	g.headers()
}

// params mutates every path, query and header parameter.
func (g *gen) params() {
	for _, p := range g.op.params {
		name, _ := p["name"].(string)
		in, _ := p["in"].(string)
		schema, _ := p["schema"].(map[string]any)
		req, _ := p["required"].(bool)
		loc := in + "." + name
		g.cover(loc)
		set := func(b *base, v string) {
			switch in {
			case "path":
				b.path[name] = v
			case "query":
				b.query[name] = v
			case "header":
				b.header[name] = v
			}
		}
		isInt := has(types(schema), "integer")
		for _, v := range stringValues() {
			if isInt && !v.hostile && v.name != "empty" && v.name != "blanks" && v.name != "%" && v.name != "SQL quote" {
				continue // an integer parameter: the numbers below say more
			}
			hostile := v.hostile || v.tooLong(schema) || notInEnum(schema, v.text) || (v.bodyOK && in != "header")
			if isInt {
				_, err := strconv.Atoi(v.text)
				hostile = hostile || (err != nil && v.text != "")
			}
			b := g.fx.pick(hostile, loc)
			set(&b, v.text)
			if in == "header" && !headerSendable(v.text) {
				// Go's client refuses these bytes in a header: a raw request.
				delete(b.header, name)
				c := g.request(loc+" "+v.name, b, nil, true)
				c.rawHeader = name + ": " + v.text
				c.needles = appendNeedle(c.needles, v.needle)
				continue
			}
			c := g.request(loc+" "+v.name, b, nil, hostile)
			c.needles = appendNeedle(c.needles, v.needle)
			c.wildcard = v.wild
		}
		if isInt {
			min, hasMin := num(schema["minimum"])
			max, hasMax := num(schema["maximum"])
			for _, n := range []string{"-1", "0", "1001", "99999999999999999999", "1.5", "1e3", "0x10", "+5"} {
				f, err := strconv.ParseFloat(n, 64)
				_, ierr := strconv.Atoi(n)
				hostile := err != nil || ierr != nil || (hasMin && f < min) || (hasMax && f > max)
				b := g.fx.pick(hostile, loc)
				set(&b, n)
				g.request(loc+" number "+n, b, nil, hostile)
			}
		}
		if enum, ok := schema["enum"].([]any); ok {
			for _, e := range enum {
				b := g.fx.pick(false, loc)
				set(&b, fmt.Sprint(e))
				g.request(loc+" enum "+fmt.Sprint(e), b, nil, false)
				b = g.fx.pick(true, loc)
				set(&b, strings.ToUpper(fmt.Sprint(e)))
				g.request(loc+" enum upper case", b, nil, true)
			}
		}
		// Escapes that decode to what a value may not hold.
		if in == "path" || in == "query" {
			for _, e := range []struct{ name, escaped, needle string }{
				{"escaped NUL", "ZQPNUL%00x", "ZQPNUL"}, {"escaped invalid UTF-8", "ZQPUTF%FFx", "ZQPUTF"},
				{"escaped bidi", "ZQPBIDI%E2%80%AEx", "ZQPBIDI"}, {"escaped line break", "ZQPLF%0Ax", "ZQPLF"},
				{"bad escape", "ZQPBAD%zz", "ZQPBAD"}, {"encoded slash", "..%2F..%2Fhealthz", ""},
			} {
				b := g.fx.pick(true, loc)
				set(&b, placeholder)
				c := g.request(loc+" "+e.name, b, nil, true)
				c.target = strings.Replace(c.target, placeholder, e.escaped, 1)
				c.needles = appendNeedle(c.needles, e.needle)
				// Go's client refuses to parse a bad escape in a path.
				c.rawTarget = in == "path" && e.name == "bad escape"
			}
			if in == "path" {
				// Bytes Go's client does not send in a URL: a raw request line.
				for _, e := range []struct{ name, raw string }{{"raw NUL in the path", "ZQRNUL\x00x"}, {"raw space in the path", "zq x"},
					{"raw dot-dot", ".."}} {
					b := g.fx.pick(true, loc)
					set(&b, placeholder)
					c := g.request(loc+" "+e.name, b, nil, true)
					c.target = strings.Replace(c.target, placeholder, e.raw, 1)
					c.rawTarget = true
				}
			}
		}
		if req {
			b := g.fx.pick(true, loc)
			switch in {
			case "query":
				delete(b.query, name)
			case "header":
				delete(b.header, name)
			}
			if in != "path" {
				g.request(loc+" missing", b, nil, true)
			}
		}
		if in == "query" || in == "header" {
			// Twice: which one counts must not matter.
			b := g.fx.pick(true, loc)
			c := g.request(loc+" twice, the second with a NUL", b, nil, true)
			if in == "query" {
				sep := "?"
				if strings.Contains(c.target, "?") {
					sep = "&"
				}
				c.target += sep + url.QueryEscape(name) + "=ZQTWICE%00"
			} else {
				c.rawHeader = name + ": ZQTWICE\x00"
			}
			c.needles = appendNeedle(c.needles, "ZQTWICE")
		}
		if in == "query" {
			// The name in another case is another, unknown parameter.
			b := g.fx.pick(false, loc)
			if v, ok := b.query[name]; ok {
				delete(b.query, name)
				b.query[strings.ToUpper(name)] = v
			} else {
				b.query[strings.ToUpper(name)] = "1"
			}
			g.request(loc+" name in upper case", b, nil, false)
		}
	}
	// Unknown parameters, and what an unknown name may hold.
	b := g.fx.pick(false, "query")
	b.query["zq_unknown"] = "1"
	g.request("unknown query parameter", b, nil, false)
	b = g.fx.pick(true, "query")
	b.query["ZQKEY\x00"] = "1"
	c := g.request("NUL in an unknown query parameter's name", b, nil, true)
	c.needles = appendNeedle(c.needles, "ZQKEY")
	b = g.fx.pick(true, "query")
	c = g.request("unreadable query", b, nil, true)
	if strings.Contains(c.target, "?") {
		c.target += "&%zz"
	} else {
		c.target += "?%zz"
	}
	// Unknown parameters are ignored, however large.
	b = g.fx.pick(false, "query")
	b.query["zq_big"] = "ZQQBIG" + bigMarker
	c = g.request("1 MB unknown query parameter", b, nil, false)
	c.needles = appendNeedle(c.needles, "ZQQBIG")
}

func headerSendable(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; (b < 0x20 && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

func appendNeedle(list []string, n string) []string {
	if len(n) >= 5 {
		list = append(list, n)
	}
	return list
}

// walk mutates every node of a JSON body schema.
func (g *gen) walk(schema map[string]any, loc []string, requiredHere bool) {
	schema = g.doc.resolve(schema)
	where := locString(loc)
	if len(loc) > 0 {
		g.cover(where)
		for _, m := range mutations(schema, requiredHere) {
			b := g.fx.pick(m.hostile, where)
			c := g.request(where+" "+m.name, b, bodyWith(b.body, loc, m.raw), m.hostile)
			c.header["Content-Type"] = "application/json"
			c.needles = appendNeedle(c.needles, m.needle)
			c.wildcard = m.wild
		}
	}
	ts := types(schema)
	switch {
	case has(ts, "object"):
		props, _ := schema["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		sort.Strings(names)
		req := required(schema)
		strict := schema["additionalProperties"] == false
		// An unknown property, and the known ones in another case.
		b := g.fx.pick(strict, where)
		g.jsonCase(where+" unknown property", b, bodyWith(b.body, append(append([]string(nil), loc...), "zq_unknown"), `"ZQUNK"`), strict)
		for _, n := range names {
			sub := append(append([]string(nil), loc...), n)
			b := g.fx.pick(true, locString(sub))
			if obj, ok := nodeAt(b.body, sub[:len(sub)-1]).(map[string]any); ok {
				if v, ok := obj[n]; ok {
					delete(obj, n)
					obj[strings.ToUpper(n)] = v
					g.jsonCase(locString(sub)+" name in upper case", b, mustMarshal(b.body), true)
				}
			}
			isReq := has(req, n)
			b = g.fx.pick(isReq, locString(sub))
			g.jsonCase(locString(sub)+" missing", b, bodyWith(b.body, sub, ""), isReq)
			g.walk(props[n].(map[string]any), sub, isReq)
		}
	case has(ts, "array"):
		if items, ok := schema["items"].(map[string]any); ok {
			g.walk(items, append(append([]string(nil), loc...), "[0]"), true)
		}
	}
}

func (g *gen) jsonCase(name string, b base, body []byte, hostile bool) {
	c := g.request(name, b, body, hostile)
	c.header["Content-Type"] = "application/json"
}

func mustMarshal(v any) []byte {
	raw, err := marshal(v)
	if err != nil {
		panic(err)
	}
	return raw
}

func nodeAt(body any, loc []string) any {
	for _, seg := range loc {
		if strings.HasPrefix(seg, "[") {
			arr, _ := body.([]any)
			if len(arr) == 0 {
				return nil
			}
			body = arr[0]
			continue
		}
		obj, _ := body.(map[string]any)
		body = obj[seg]
	}
	return body
}

// wholeBody: what the body as a whole may be instead of the JSON expected.
func (g *gen) wholeBody() {
	g.cover("body")
	b := g.fx.pick(true, "body")
	valid := mustMarshal(b.body)
	if b.body == nil {
		valid = []byte("{}")
	}
	for _, w := range []struct {
		name string
		raw  []byte
	}{
		{"empty body", []byte{}}, {"truncated JSON", valid[:len(valid)/2]}, {"not JSON", []byte("ZQNOTJSON")},
		{"JSON null", []byte("null")}, {"JSON array", []byte("[]")}, {"JSON string", []byte(`"ZQSTR"`)}, {"JSON number", []byte("123")},
		{"trailing garbage", append(append([]byte{}, valid...), []byte(" ZQTRAIL")...)},
		{"two documents", append(append(append([]byte{}, valid...), ' '), valid...)},
		{"BOM before JSON", append([]byte("\ufeff"), valid...)},
		{"deep nesting", []byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000))},
		{"300 KB body", []byte(`{"zq300k":"ZQ300K` + strings.Repeat("x", 300<<10) + `"}`)},
		{"NUL byte outside strings", append([]byte{0}, valid...)},
		{"invalid UTF-8 outside strings", append([]byte{0xff, ' '}, valid...)},
		{"NUL in a property name", []byte(`{"ZQKNUL\u0000":1}`)},
	} {
		c := g.request(w.name, g.fx.pick(true, "body"), w.raw, true)
		c.header["Content-Type"] = "application/json"
		c.needles = appendNeedle(c.needles, "ZQTRAIL")
		c.needles = appendNeedle(c.needles, "ZQ300K")
		c.needles = appendNeedle(c.needles, "ZQKNUL")
	}
	// A duplicated property: which one counts must not depend on the reader.
	if obj, ok := b.body.(map[string]any); ok && len(obj) > 0 {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		raw := strings.TrimSuffix(string(mustMarshal(obj)), "}") + `,"` + keys[0] + `":"ZQDUP\u0000"}`
		c := g.request("duplicated property, the second with a NUL", g.fx.pick(true, "body"), []byte(raw), true)
		c.header["Content-Type"] = "application/json"
		c.needles = appendNeedle(c.needles, "ZQDUP")
	}
	// The body as the wrong content type, or none.
	for _, ct := range []struct {
		value   string
		hostile bool
	}{
		{"", true}, {"text/plain", true}, {"application/xml", true}, {"application/x-www-form-urlencoded", true},
		{"multipart/form-data; boundary=zq", true}, {"text/csv", true}, {"application/cbor", true}, {"@@@;;", true},
		{"application/json; charset=utf-16", false}, {"APPLICATION/JSON", false}, {"application/problem+json", false},
		{"application/json; zq=\x01", true},
	} {
		b := g.fx.pick(ct.hostile, "header.Content-Type")
		body := mustMarshal(b.body)
		if !headerSendable(ct.value) {
			c := g.request("Content-Type "+ct.value, b, body, true)
			c.rawHeader = "Content-Type: " + ct.value
			continue
		}
		c := g.request("Content-Type "+ct.value, b, body, ct.hostile)
		if ct.value == "" {
			delete(c.header, "Content-Type")
		} else {
			c.header["Content-Type"] = ct.value
		}
	}
	// A chunked body that breaks off.
	c := g.request("bad chunked body", g.fx.pick(true, "body"), nil, true)
	c.rawHeader = "Transfer-Encoding: chunked"
	c.body, c.hasBody = []byte("zz\r\nZQCHUNK\r\n"), true
	c.header["Content-Type"] = "application/json"
}

// strayBody: a body where the operation takes none.
func (g *gen) strayBody() {
	for _, s := range []struct{ name, ct, raw string }{
		{"unexpected JSON body", "application/json", `{"zq_unknown":"ZQSTRAY"}`},
		{"unexpected body with a NUL", "application/json", `{"zq":"ZQSTRNUL\u0000"}`},
		{"unexpected invalid JSON", "application/json", `{ZQBROKEN`},
		{"unexpected text body", "text/plain", "ZQTEXT"},
		{"unexpected 300 KB body", "application/json", `{"zq":"ZQS300K` + strings.Repeat("x", 300<<10) + `"}`},
	} {
		c := g.request(s.name, g.fx.pick(false, "body"), []byte(s.raw), false)
		c.header["Content-Type"] = s.ct
		c.needles = appendNeedle(c.needles, "ZQSTRAY")
		c.needles = appendNeedle(c.needles, "ZQSTRNUL")
		c.needles = appendNeedle(c.needles, "ZQS300K")
	}
}

// csvCases: a register extract, every column in turn.
func (g *gen) csvCases() {
	g.cover("body")
	header := strings.Split(g.csvHeader, ",")
	for i, col := range header {
		loc := "body." + col
		for _, v := range stringValues() {
			hostile := v.hostile && v.name != "padded"
			b := g.fx.pick(hostile, loc)
			if i < len(b.csv) {
				b.csv[i] = v.text
			}
			c := g.request(loc+" "+v.name, b, nil, hostile)
			c.needles = appendNeedle(c.needles, v.needle)
		}
	}
	line := func(b base) string { return csvLine(b.csv) }
	d := g.fx.pick(false, "body")
	h := g.csvHeader + "\n"
	for _, w := range []struct {
		name, raw string
		ct        string
		hostile   bool
	}{
		{"empty extract", "", "text/csv", true},
		{"header only", h, "text/csv", false},
		{"no header", line(d), "text/csv", true},
		{"header in upper case", strings.ToUpper(h) + line(d), "text/csv", true},
		{"header with a NUL", strings.Replace(h, "nne", "nne\x00ZQHNUL", 1) + line(d), "text/csv", true},
		{"header with invalid UTF-8", strings.Replace(h, "nne", "nne\xff", 1) + line(d), "text/csv", true},
		{"header reordered", "family_name,nne" + strings.TrimPrefix(h, "nne,family_name") + line(d), "text/csv", true},
		{"BOM and CRLF", "\ufeff" + strings.ReplaceAll(h+line(d), "\n", "\r\n"), "text/csv", false},
		{"unbalanced quote", h + `"ZQQUOTE,` + line(d), "text/csv", false},
		{"too few fields", h + "1,2,3\n", "text/csv", false},
		{"too many fields", h + strings.TrimSuffix(line(d), "\n") + strings.Repeat(",zq", 1000) + "\n", "text/csv", false},
		{"NUL bytes line", h + "\x00\x00\x00\n", "text/csv", false},
		{"300 KB of lines", h + strings.Repeat(line(d), (300<<10)/len(line(d))+1), "text/csv", false},
		{"a 1 MB line", h + "ZQCBIG" + bigMarker + "\n", "text/csv", false},
		{"JSON as CSV", `{"nne":"ZQJSON"}`, "text/csv", false},
		{"CSV as JSON", h + line(d), "application/json", true},
		{"CSV as text/plain", h + line(d), "text/plain", true},
		{"CSV without Content-Type", h + line(d), "", true},
		{"CSV latin1 charset", h + line(d), "text/csv; charset=iso-8859-1", false},
		{"latin1 bytes", h + strings.Replace(line(d), "Zoé", "Zo\xe9", 1), "text/csv", false},
	} {
		c := g.request(w.name, g.fx.pick(w.hostile, "body"), []byte(w.raw), w.hostile)
		if w.ct == "" {
			delete(c.header, "Content-Type")
		} else {
			c.header["Content-Type"] = w.ct
		}
		c.needles = appendNeedle(c.needles, "ZQHNUL")
		c.needles = appendNeedle(c.needles, "ZQQUOTE")
		c.needles = appendNeedle(c.needles, "ZQCBIG")
		c.needles = appendNeedle(c.needles, "ZQJSON")
	}
}

// headers: the Authorization header, Accept, and headers Go's client
// would not send.
func (g *gen) headers() {
	type auth struct {
		name, value string
		raw         bool
	}
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"zq","role":"support","aud":"procuration","exp":4102444800}`)) + "."
	for _, a := range []auth{
		{"no Authorization", "", false}, {"Bearer without token", "Bearer", false}, {"Bearer blank", "Bearer    ", false},
		{"garbage token", "Bearer ZQGARBAGE", false}, {"Basic credentials", "Basic enE6enE=", false}, {"alg none token", "Bearer " + none, false},
		{"token with bidi", "Bearer ZQTBIDI\u202e", false}, {"token with invalid UTF-8", "Bearer ZQTUTF\xff", false},
		{"1 MB token", "Bearer ZQTBIG" + bigMarker, false},
		{"token with NUL", "Bearer ZQTNUL\x00", true}, {"token with a line break", "Bearer zq\r\nX-Zq: 1", true},
	} {
		b := g.fx.pick(g.op.secured, "header.Authorization")
		c := g.request(a.name, b, nil, g.op.secured)
		c.token, c.authCase = "", true
		if a.raw {
			c.rawHeader = "Authorization: " + a.value
		} else if a.value != "" {
			c.header["Authorization"] = a.value
		}
		for _, n := range []string{"ZQGARBAGE", "ZQTBIDI", "ZQTUTF", "ZQTBIG", "ZQTNUL"} {
			c.needles = appendNeedle(c.needles, n)
		}
	}
	if g.op.secured {
		b := g.fx.pick(true, "header.Authorization")
		c := g.request("expired token", b, nil, true)
		c.token, c.authCase = g.expired, true
	}
	for _, accept := range []string{"application/xml", "text/html", "ZQ/accept", "*/*;q=zq"} {
		b := g.fx.pick(false, "header.Accept")
		c := g.request("Accept "+accept, b, nil, false)
		c.header["Accept"] = accept
	}
	for _, h := range []struct{ name, line string }{
		{"NUL in a header", "X-Zq: ZQHDRNUL\x00x"}, {"bare CR in a header", "X-Zq: zq\rx"}, {"header without colon", "ZQNOCOLON"},
		{"space before colon", "X-Zq : 1"},
	} {
		b := g.fx.pick(true, "header")
		c := g.request(h.name, b, nil, true)
		c.rawHeader = h.line
	}
}
