-- +goose Up
-- Every booking keeps, beside its UTC instants, the site-local wall-clock it was
-- derived to and the tz database release used, so a tz change can be detected and
-- the people whose wall-clock moved told.
ALTER TABLE booking_groups
    ADD COLUMN time_zone   text,
    ADD COLUMN local_start timestamp,
    ADD COLUMN local_end   timestamp,
    ADD COLUMN tz_version  text;

-- A site's ordinary week: working spans per weekday (0 = Sunday) in local minutes
-- since midnight; several spans a day make a split day.
CREATE TABLE site_week_spans (
    site_id   uuid NOT NULL REFERENCES sites (id),
    weekday   smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    from_min  smallint NOT NULL CHECK (from_min BETWEEN 0 AND 1439),
    to_min    smallint NOT NULL CHECK (to_min BETWEEN 1 AND 1440),
    CHECK (from_min < to_min),
    PRIMARY KEY (site_id, weekday, from_min)
);

-- A period with other hours (e.g. Ramadan): its week replaces the ordinary one on the
-- dates from_date..to_date inclusive.
CREATE TABLE calendar_overrides (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id    uuid NOT NULL REFERENCES sites (id),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    from_date  date NOT NULL,
    to_date    date NOT NULL,
    spans      jsonb NOT NULL, -- [{"weekday":1,"from_min":540,"to_min":900}, ...]
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (from_date <= to_date)
);
CREATE INDEX calendar_overrides_site_idx ON calendar_overrides (site_id, from_date);

-- Holidays and closures: national ones (country) apply to every site in the country;
-- a site's own (site_id) to it alone. Provisional ones (lunar dates announced late)
-- are avoided by the planner and warned about on manual bookings until confirmed.
CREATE TABLE holidays (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    country      text CHECK (country ~ '^[A-Z]{2}$'),
    site_id      uuid REFERENCES sites (id),
    date         date NOT NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    provisional  boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((country IS NULL) <> (site_id IS NULL))
);
CREATE UNIQUE INDEX holidays_country_date_idx ON holidays (country, date, name) WHERE country IS NOT NULL;
CREATE UNIQUE INDEX holidays_site_date_idx ON holidays (site_id, date, name) WHERE site_id IS NOT NULL;

-- Blocks may recur (RFC 5545 RRULE, expanded in Go in the site's zone) and include a
-- person's leave.
ALTER TABLE resource_blocks
    DROP CONSTRAINT resource_blocks_kind_check,
    ADD CONSTRAINT resource_blocks_kind_check CHECK (kind IN ('maintenance', 'closure', 'leave')),
    ADD COLUMN rrule text,
    ADD COLUMN until timestamptz;
CREATE INDEX resource_blocks_recurring_idx ON resource_blocks (resource_id) WHERE rrule IS NOT NULL;

-- Moroccan and Senegalese public holidays, 2026 and 2027. Lunar dates are the
-- expected ones and provisional until the authorities announce them.
INSERT INTO holidays (country, date, name, provisional) VALUES
    ('MA', '2026-01-01', 'New Year''s Day', false),
    ('MA', '2026-01-11', 'Proclamation of Independence', false),
    ('MA', '2026-01-14', 'Amazigh New Year', false),
    ('MA', '2026-03-20', 'Eid al-Fitr', true),
    ('MA', '2026-03-21', 'Eid al-Fitr (second day)', true),
    ('MA', '2026-05-01', 'Labour Day', false),
    ('MA', '2026-05-27', 'Eid al-Adha', true),
    ('MA', '2026-05-28', 'Eid al-Adha (second day)', true),
    ('MA', '2026-06-16', 'Islamic New Year', true),
    ('MA', '2026-07-30', 'Throne Day', false),
    ('MA', '2026-08-14', 'Oued Ed-Dahab Day', false),
    ('MA', '2026-08-20', 'Revolution of the King and the People', false),
    ('MA', '2026-08-21', 'Youth Day', false),
    ('MA', '2026-08-25', 'Mawlid', true),
    ('MA', '2026-08-26', 'Mawlid (second day)', true),
    ('MA', '2026-11-06', 'Green March', false),
    ('MA', '2026-11-18', 'Independence Day', false),
    ('MA', '2027-01-01', 'New Year''s Day', false),
    ('MA', '2027-01-11', 'Proclamation of Independence', false),
    ('MA', '2027-01-14', 'Amazigh New Year', false),
    ('MA', '2027-03-10', 'Eid al-Fitr', true),
    ('MA', '2027-03-11', 'Eid al-Fitr (second day)', true),
    ('MA', '2027-05-01', 'Labour Day', false),
    ('MA', '2027-05-17', 'Eid al-Adha', true),
    ('MA', '2027-05-18', 'Eid al-Adha (second day)', true),
    ('MA', '2027-06-06', 'Islamic New Year', true),
    ('MA', '2027-07-30', 'Throne Day', false),
    ('MA', '2027-08-14', 'Oued Ed-Dahab Day', false),
    ('MA', '2027-08-15', 'Mawlid', true),
    ('MA', '2027-08-16', 'Mawlid (second day)', true),
    ('MA', '2027-08-20', 'Revolution of the King and the People', false),
    ('MA', '2027-08-21', 'Youth Day', false),
    ('MA', '2027-11-06', 'Green March', false),
    ('MA', '2027-11-18', 'Independence Day', false),
    ('SN', '2026-01-01', 'New Year''s Day', false),
    ('SN', '2026-03-20', 'Korité (Eid al-Fitr)', true),
    ('SN', '2026-04-04', 'Independence Day', false),
    ('SN', '2026-04-06', 'Easter Monday', false),
    ('SN', '2026-05-01', 'Labour Day', false),
    ('SN', '2026-05-14', 'Ascension Day', false),
    ('SN', '2026-05-25', 'Whit Monday', false),
    ('SN', '2026-05-27', 'Tabaski (Eid al-Adha)', true),
    ('SN', '2026-06-25', 'Tamkharit (Ashura)', true),
    ('SN', '2026-08-02', 'Grand Magal of Touba', true),
    ('SN', '2026-08-15', 'Assumption Day', false),
    ('SN', '2026-08-25', 'Maouloud (Mawlid)', true),
    ('SN', '2026-11-01', 'All Saints'' Day', false),
    ('SN', '2026-12-25', 'Christmas Day', false),
    ('SN', '2027-01-01', 'New Year''s Day', false),
    ('SN', '2027-03-10', 'Korité (Eid al-Fitr)', true),
    ('SN', '2027-03-29', 'Easter Monday', false),
    ('SN', '2027-04-04', 'Independence Day', false),
    ('SN', '2027-05-01', 'Labour Day', false),
    ('SN', '2027-05-06', 'Ascension Day', false),
    ('SN', '2027-05-17', 'Tabaski (Eid al-Adha)', true),
    ('SN', '2027-05-17', 'Whit Monday', false),
    ('SN', '2027-06-15', 'Tamkharit (Ashura)', true),
    ('SN', '2027-07-23', 'Grand Magal of Touba', true),
    ('SN', '2027-08-15', 'Assumption Day', false),
    ('SN', '2027-08-15', 'Maouloud (Mawlid)', true),
    ('SN', '2027-11-01', 'All Saints'' Day', false),
    ('SN', '2027-12-25', 'Christmas Day', false);

-- +goose Down
DELETE FROM holidays;
ALTER TABLE resource_blocks DROP COLUMN until, DROP COLUMN rrule,
    DROP CONSTRAINT resource_blocks_kind_check,
    ADD CONSTRAINT resource_blocks_kind_check CHECK (kind IN ('maintenance', 'closure'));
DROP TABLE holidays;
DROP TABLE calendar_overrides;
DROP TABLE site_week_spans;
ALTER TABLE booking_groups DROP COLUMN tz_version, DROP COLUMN local_end, DROP COLUMN local_start, DROP COLUMN time_zone;
