package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

// A production's deliverables live in its own row (migration 00018): the lists of
// formats and languages as text arrays, the original language NULL when none.

// deliverablesColumns reads a production's deliverables (p is the productions row), in
// the order deliverablesDest scans them.
const deliverablesColumns = `p.picture_formats, p.sound_formats, p.delivery_formats, coalesce(p.original_language, ''),
	       p.subtitle_languages, p.dub_languages, p.sdh, p.vfx_shots`

// deliverablesDest are the scan destinations for deliverablesColumns.
func deliverablesDest(d *booking.Deliverables) []any {
	return []any{&d.Picture, &d.Sound, &d.Delivery, &d.OriginalLanguage, &d.SubtitleLanguages, &d.DubLanguages, &d.SDH, &d.VFXShots}
}

// nonNil gives a list that reads [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// normalizeScanned keeps the lists non-nil once scanned.
func normalizeScanned(d *booking.Deliverables) {
	d.Picture, d.Sound, d.Delivery = nonNil(d.Picture), nonNil(d.Sound), nonNil(d.Delivery)
	d.SubtitleLanguages, d.DubLanguages = nonNil(d.SubtitleLanguages), nonNil(d.DubLanguages)
}

// setDeliverables stores a production's deliverables, normalized (booking.Deliverables
// .Normalize) by the caller.
func setDeliverables(ctx context.Context, tx pgx.Tx, id uuid.UUID, d booking.Deliverables) error {
	var original *string
	if d.OriginalLanguage != "" {
		original = &d.OriginalLanguage
	}
	_, err := tx.Exec(ctx, `UPDATE productions SET picture_formats = $2, sound_formats = $3, delivery_formats = $4,
		original_language = $5, subtitle_languages = $6, dub_languages = $7, sdh = $8, vfx_shots = $9 WHERE id = $1`,
		id, nonNil(d.Picture), nonNil(d.Sound), nonNil(d.Delivery), original, nonNil(d.SubtitleLanguages), nonNil(d.DubLanguages), d.SDH, d.VFXShots)
	return err
}

// planProduction reads what planning needs of a production the actor may see: its
// format, runtime and deliverables; ENOTFOUND otherwise.
func (db *DB) planProduction(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.Production, error) {
	p := booking.Production{ID: id}
	err := db.Pool.QueryRow(ctx, `SELECT p.organisation_id, p.format, p.runtime_minutes, `+deliverablesColumns+`
		FROM productions p WHERE p.id = $1`, id).Scan(append([]any{&p.OrganisationID, &p.Format, &p.RuntimeMinutes}, deliverablesDest(&p.Deliverables)...)...)
	if err != nil || (!a.SeesAllProductions() && p.OrganisationID != a.OrganisationID) {
		return booking.Production{}, booking.Errorf(booking.ENOTFOUND, "No such production.")
	}
	normalizeScanned(&p.Deliverables)
	return p, nil
}
