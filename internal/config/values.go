package config

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// A setting is a flag whose default comes from an environment variable. A
// value that does not parse, from the flag or from the variable, stops the
// process at start with the variable's name and what it expects: nothing
// falls back silently to a default.
type settings struct {
	fs *pflag.FlagSet
	// problems are the environment's values that did not parse, by flag:
	// a value given on the command line replaces them.
	problems map[string]string
	// documented lists every setting, for the README table and --help.
	documented []Documented
}

// Documented describes one setting.
type Documented struct {
	Env, Flag, Default, Expects, Help, Roles string
}

func (s *settings) define(p pflag.Value, flag, env, expects, help, roles string) {
	def := p.String()
	if raw, ok := os.LookupEnv(env); ok && raw != "" {
		if err := p.Set(raw); err != nil {
			if s.problems == nil {
				s.problems = map[string]string{}
			}
			s.problems[flag] = fmt.Sprintf("%s=%q: %s expected", env, raw, expects)
		}
	}
	s.fs.Var(p, flag, fmt.Sprintf("%s (%s; %s)", help, env, expects))
	if b, ok := p.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		s.fs.Lookup(flag).NoOptDefVal = "true"
	}
	s.documented = append(s.documented, Documented{Env: env, Flag: flag, Default: def, Expects: expects, Help: help, Roles: roles})
}

type stringValue struct {
	p     *string
	check func(string) error
}

func (v stringValue) String() string { return *v.p }
func (v stringValue) Type() string   { return "string" }
func (v stringValue) Set(s string) error {
	if v.check != nil {
		if err := v.check(s); err != nil {
			return err
		}
	}
	*v.p = s
	return nil
}

func (s *settings) str(p *string, flag, env, def, expects, help, roles string, check func(string) error) {
	*p = def
	s.define(stringValue{p, check}, flag, env, expects, help, roles)
}

type intValue struct {
	p        *int
	min, max int
}

func (v intValue) String() string { return strconv.Itoa(*v.p) }
func (v intValue) Type() string   { return "int" }
func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < v.min || n > v.max {
		return fmt.Errorf("out of range")
	}
	*v.p = n
	return nil
}

func (s *settings) integer(p *int, flag, env string, def, min, max int, help, roles string) {
	*p = def
	s.define(intValue{p, min, max}, flag, env, fmt.Sprintf("a whole number from %d to %d", min, max), help, roles)
}

type boolValue struct{ p *bool }

func (v boolValue) String() string { return strconv.FormatBool(*v.p) }
func (v boolValue) Type() string   { return "bool" }
func (v boolValue) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		*v.p = true
	case "false", "0", "no", "off":
		*v.p = false
	default:
		return fmt.Errorf("not a boolean")
	}
	return nil
}

// IsBoolFlag lets --dev-issuer stand for --dev-issuer=true.
func (v boolValue) IsBoolFlag() bool { return true }

func (s *settings) boolean(p *bool, flag, env string, def bool, help, roles string) {
	*p = def
	s.define(boolValue{p}, flag, env, "true or false (also 1/0, yes/no, on/off)", help, roles)
}

type durationValue struct {
	p   *time.Duration
	min time.Duration
}

func (v durationValue) String() string { return v.p.String() }
func (v durationValue) Type() string   { return "duration" }
func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < v.min {
		return fmt.Errorf("bad duration")
	}
	*v.p = d
	return nil
}

func (s *settings) duration(p *time.Duration, flag, env string, def time.Duration, help, roles string) {
	*p = def
	s.define(durationValue{p, time.Millisecond}, flag, env, "a positive duration, like 48h, 30m or 90s", help, roles)
}

type listValue struct{ p *[]string }

func (v listValue) String() string { return strings.Join(*v.p, ",") }
func (v listValue) Type() string   { return "list" }
func (v listValue) Set(s string) error {
	*v.p = nil
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			if _, err := absoluteURL(item); err != nil {
				return err
			}
			*v.p = append(*v.p, item)
		}
	}
	return nil
}

func (s *settings) urls(p *[]string, flag, env, help, roles string) {
	s.define(listValue{p}, flag, env, "a comma-separated list of https:// issuer URLs", help, roles)
}

func absoluteURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("not an absolute URL")
	}
	return u, nil
}

func oneOf(choices ...string) func(string) error {
	return func(s string) error {
		for _, c := range choices {
			if s == c {
				return nil
			}
		}
		return fmt.Errorf("not one of %v", choices)
	}
}

func hostPort(s string) error {
	host, port, ok := strings.Cut(s, ":")
	if !ok || port == "" {
		return fmt.Errorf("no port")
	}
	if _, err := strconv.Atoi(port); err != nil || strings.ContainsAny(host, "/ ") {
		return fmt.Errorf("bad host:port")
	}
	return nil
}
