package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Election is a vote of one or two rounds.
type Election struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Rounds []Round `json:"rounds"`
}

type Round struct {
	Number int    `json:"number"`
	Date   string `json:"date" format:"date"`
}

type roundRow struct {
	ID     string    `db:"id"`
	Name   string    `db:"name"`
	Number int       `db:"number"`
	Date   time.Time `db:"date"`
}

// elections groups rounds, read in election order, into elections.
func elections(rows []roundRow) []Election {
	var out []Election
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].ID != r.ID {
			out = append(out, Election{ID: r.ID, Name: r.Name})
		}
		out[len(out)-1].Rounds = append(out[len(out)-1].Rounds, Round{Number: r.Number, Date: r.Date.Format(time.DateOnly)})
	}
	return out
}

func (s *Store) Elections(ctx context.Context) ([]Election, error) {
	rows, err := all[roundRow](ctx, s.pool, `SELECT e.id, e.name, r.number, r.date FROM elections e
		JOIN election_rounds r ON r.election_id = e.id ORDER BY min(r.date) OVER (PARTITION BY e.id), e.id, r.number`)
	return elections(rows), err
}

func (s *Store) Election(ctx context.Context, id string) (Election, error) {
	rows, err := all[roundRow](ctx, s.pool, `SELECT e.id, e.name, r.number, r.date FROM elections e
		JOIN election_rounds r ON r.election_id = e.id WHERE e.id = $1 ORDER BY r.number`, id)
	if err != nil {
		return Election{ID: id}, err
	}
	if len(rows) == 0 {
		return Election{ID: id}, fmt.Errorf("election %s: %w", id, ErrNotFound)
	}
	return elections(rows)[0], nil
}

func (s *Store) UpsertElection(ctx context.Context, e Election) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO elections (id, name) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name`, e.ID, e.Name); err != nil {
			return err
		}
		for _, r := range e.Rounds {
			if _, err := tx.Exec(ctx, `INSERT INTO election_rounds (election_id, number, date) VALUES ($1, $2, $3)
				ON CONFLICT (election_id, number) DO UPDATE SET date = excluded.date`, e.ID, r.Number, r.Date); err != nil {
				return err
			}
		}
		return nil
	})
}
