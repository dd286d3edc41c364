package store

import "context"

// Agent is what an agent's token says of them, kept so that histories name
// agents by subject only.
type Agent struct {
	Sub        string
	Role       string
	GivenName  string
	FamilyName string
	Rank       string
	Unit       string
}

func (s *Store) UpsertAgent(ctx context.Context, a Agent) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO agents (sub, role, given_name, family_name, rank, unit)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (sub) DO UPDATE SET role = $2, given_name = $3, family_name = $4, rank = $5, unit = $6, updated_at = now()
		WHERE (agents.role, agents.given_name, agents.family_name, agents.rank, agents.unit) IS DISTINCT FROM ($2, $3, $4, $5, $6)`,
		a.Sub, a.Role, a.GivenName, a.FamilyName, a.Rank, a.Unit)
	return err
}
