package service

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/procurations/procuration/internal/errs"
	"github.com/procurations/procuration/internal/identity"
	"github.com/procurations/procuration/internal/store"
	"github.com/procurations/procuration/internal/valid"
)

// A commune is typed as people know it: its INSEE code, its name, or both
// as the pages show it ("Paris (75056)").
var (
	inseeCode   = regexp.MustCompile(`^[0-9][0-9AB][0-9]{3}$`)
	namedInsee  = regexp.MustCompile(`\(([0-9][0-9AB][0-9]{3})\)\s*$`)
	communesTTL = 10 * time.Minute
)

// communeIndex keeps the communes (reference data, reloaded every
// communesTTL) in memory: pages name them at every turn.
type communeIndex struct {
	mu     sync.Mutex
	byName map[string][]store.Commune
	byCode map[string]store.Commune
	at     time.Time
}

// commune resolves what was typed into a commune, or names the problem on
// field.
func (s *Service) commune(ctx context.Context, typed, field string, fe *errs.Fields) (store.Commune, error) {
	typed = strings.TrimSpace(typed)
	if msg := valid.Text(typed, 120, true); msg != "" {
		fe.Add(field, "commune attendue (nom ou code INSEE)")
		return store.Commune{}, nil
	}
	code := typed
	if m := namedInsee.FindStringSubmatch(typed); m != nil {
		code = m[1]
	}
	if !inseeCode.MatchString(code) {
		found, err := s.communesNamed(ctx, typed)
		if err != nil {
			return store.Commune{}, s.infra(ctx, err)
		}
		switch len(found) {
		case 0:
			fe.Add(field, "commune inconnue")
			return store.Commune{}, nil
		case 1:
			return found[0], nil
		default:
			fe.Add(field, "plusieurs communes portent ce nom : précisez le code INSEE, par exemple "+found[0].Name+" ("+found[0].Code+")")
			return store.Commune{}, nil
		}
	}
	c, err := s.communeByCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		fe.Add(field, "commune inconnue")
		return c, nil
	}
	return c, s.infra(ctx, err)
}

func (s *Service) communeIndex(ctx context.Context) (*communeIndex, error) {
	idx := s.communes
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if idx.byName == nil || time.Since(idx.at) > communesTTL {
		list, err := s.Store.AllCommunes(ctx)
		if err != nil {
			return nil, err
		}
		idx.byName, idx.byCode = map[string][]store.Commune{}, make(map[string]store.Commune, len(list))
		for _, c := range list {
			k := identity.Normalize(c.Name)
			idx.byName[k] = append(idx.byName[k], c)
			idx.byCode[c.Code] = c
		}
		idx.at = time.Now()
	}
	return idx, nil
}

func (s *Service) communesNamed(ctx context.Context, name string) ([]store.Commune, error) {
	idx, err := s.communeIndex(ctx)
	if err != nil {
		return nil, err
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	return idx.byName[identity.Normalize(name)], nil
}

func (s *Service) communeByCode(ctx context.Context, code string) (store.Commune, error) {
	idx, err := s.communeIndex(ctx)
	if err != nil {
		return store.Commune{}, err
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	c, ok := idx.byCode[code]
	if !ok {
		return c, store.ErrNotFound
	}
	return c, nil
}

// CommuneName names a commune for a page: "Paris (75056)"; the code alone
// when the commune is unknown.
func (s *Service) CommuneName(ctx context.Context, code string) string {
	c, err := s.communeByCode(ctx, code)
	if err != nil {
		return code
	}
	return c.Name + " (" + c.Code + ")"
}
