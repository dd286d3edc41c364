package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReserveProxySlot checks that grantor and holder are still on the register
// and takes one of the holder's cap slots for this dossier. It returns
// ok=false with a French reason when the law forbids it. Calling it again for
// the same dossier returns the slot it already holds.
func (s *Store) ReserveProxySlot(ctx context.Context, reference string) (ok bool, reason string, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			grantorNNE, proxyNNE string
			proxyBirth           time.Time
			held                 bool
		)
		if err := tx.QueryRow(ctx, `SELECT grantor_nne, proxy_nne, proxy_birth_date,
			EXISTS (SELECT 1 FROM proxy_slots s WHERE s.reference = p.reference AND s.released_at IS NULL)
			FROM procurations p WHERE reference = $1`, reference).Scan(&grantorNNE, &proxyNNE, &proxyBirth, &held); err != nil {
			return notFound(err, "procuration")
		}
		if held {
			ok = true
			return nil
		}
		var grantorOK, proxyOK bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM voters WHERE nne = $1),
			EXISTS (SELECT 1 FROM voters WHERE nne = $2 AND birth_date = $3)`, grantorNNE, proxyNNE, proxyBirth).Scan(&grantorOK, &proxyOK); err != nil {
			return err
		}
		switch {
		case !grantorOK:
			reason = "le mandant n'est pas inscrit sur la liste électorale"
			return nil
		case !proxyOK:
			reason = "le mandataire n'est pas inscrit sur la liste électorale"
			return nil
		}
		// Every procuration this system handles is established in France
		// (police, gendarmerie or France Identité), so the in-France index
		// decides; the slot number bounds the total for those from abroad.
		for slot := 1; slot <= 2; slot++ {
			if _, err := tx.Exec(ctx, `SAVEPOINT reserve`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO proxy_slots (reference, proxy_nne, slot, in_france) VALUES ($1, $2, $3, true)`,
				reference, proxyNNE, slot)
			if err == nil {
				ok = true
				return nil
			}
			if !isUniqueViolation(err) {
				return err
			}
			if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT reserve`); err != nil {
				return err
			}
		}
		reason = "le mandataire détient déjà le nombre maximal de procurations (article L73 du code électoral)"
		return nil
	})
	return ok, reason, err
}

// ReleaseProxySlot frees the dossier's slot, if it holds one.
func (s *Store) ReleaseProxySlot(ctx context.Context, reference string) error {
	_, err := s.pool.Exec(ctx, `UPDATE proxy_slots SET released_at = now() WHERE reference = $1 AND released_at IS NULL`, reference)
	return err
}

// ActiveSlots counts the slots a holder holds now.
func (s *Store) ActiveSlots(ctx context.Context, proxyNNE string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM proxy_slots WHERE proxy_nne = $1 AND released_at IS NULL`, proxyNNE).Scan(&n)
	return n, err
}
