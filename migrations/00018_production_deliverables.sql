-- +goose Up
-- A production's deliverables (booking.Deliverables): its picture and sound masters,
-- the formats they are packaged in, and its languages as ISO 639-1 codes. They drive
-- its plan: a production with any is planned on the pipeline derived from them
-- (internal/booking/pipeline_norms.json). The application normalizes and checks them
-- (the language codes against ISO 639-1's list); the database keeps the values in
-- their sets and the codes in shape. Every column has a default, so rows of the
-- previous release, and its inserts during an upgrade, have none.
ALTER TABLE productions
    ADD COLUMN picture_formats    text[]  NOT NULL DEFAULT '{}'
        CHECK (picture_formats <@ ARRAY['sdr', 'hdr', 'dolby_vision']::text[]),
    ADD COLUMN sound_formats      text[]  NOT NULL DEFAULT '{}'
        CHECK (sound_formats <@ ARRAY['stereo', '5.1', '7.1', 'atmos']::text[]),
    ADD COLUMN delivery_formats   text[]  NOT NULL DEFAULT '{}'
        CHECK (delivery_formats <@ ARRAY['dcp', 'imf', 'broadcast', 'streaming']::text[]),
    ADD COLUMN original_language  text
        CHECK (original_language ~ '^[a-z]{2}$'),
    ADD COLUMN subtitle_languages text[]  NOT NULL DEFAULT '{}'
        CHECK (cardinality(subtitle_languages) <= 10 AND array_position(subtitle_languages, NULL) IS NULL
               AND array_to_string(subtitle_languages, ',') ~ '^([a-z]{2}(,[a-z]{2})*)?$'),
    ADD COLUMN dub_languages      text[]  NOT NULL DEFAULT '{}'
        CHECK (cardinality(dub_languages) <= 5 AND array_position(dub_languages, NULL) IS NULL
               AND array_to_string(dub_languages, ',') ~ '^([a-z]{2}(,[a-z]{2})*)?$'),
    ADD COLUMN sdh                boolean NOT NULL DEFAULT false,
    ADD COLUMN vfx_shots          integer NOT NULL DEFAULT 0
        CHECK (vfx_shots BETWEEN 0 AND 2000);

-- +goose Down
ALTER TABLE productions
    DROP COLUMN picture_formats,
    DROP COLUMN sound_formats,
    DROP COLUMN delivery_formats,
    DROP COLUMN original_language,
    DROP COLUMN subtitle_languages,
    DROP COLUMN dub_languages,
    DROP COLUMN sdh,
    DROP COLUMN vfx_shots;
