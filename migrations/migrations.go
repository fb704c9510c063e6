// Package migrations embeds the application's SQL migrations (goose format) so the
// binary carries its schema and every process applies the same files.
package migrations

import "embed"

// FS holds the NNNNN_name.sql migrations, applied in order by goose.
//
//go:embed *.sql
var FS embed.FS
