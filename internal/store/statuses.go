package store

import "context"

// ProcurationsByStatus counts every dossier per status, for the metrics.
func (s *Store) ProcurationsByStatus(ctx context.Context) (map[string]int, error) {
	return s.countByStatus(ctx, `SELECT status, count(*) AS n FROM procurations GROUP BY status`)
}

// MatchesByStatus counts every match per status, for the metrics.
func (s *Store) MatchesByStatus(ctx context.Context) (map[string]int, error) {
	return s.countByStatus(ctx, `SELECT status, count(*) AS n FROM matches GROUP BY status`)
}

func (s *Store) countByStatus(ctx context.Context, sql string) (map[string]int, error) {
	type count struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	counts, err := all[count](ctx, s.pool, sql)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(counts))
	for _, c := range counts {
		out[c.Status] = c.N
	}
	return out, nil
}
