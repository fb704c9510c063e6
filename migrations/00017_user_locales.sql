-- +goose Up
-- A person's language (users.locale) is the one they chose in the UI's language switch,
-- any language posthub has a message catalog for (internal/i18n): a catalog added
-- without code changes must be storable too. The application checks the tag against
-- the catalogs; the database only that it is a BCP 47 tag (en, fr, ar, pt-BR). Wider
-- than before, so the previous release keeps working during an upgrade.
ALTER TABLE users DROP CONSTRAINT users_locale_check;
ALTER TABLE users ADD CONSTRAINT users_locale_check CHECK (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$');

-- +goose Down
UPDATE users SET locale = 'en' WHERE locale NOT IN ('en', 'fr');
ALTER TABLE users DROP CONSTRAINT users_locale_check;
ALTER TABLE users ADD CONSTRAINT users_locale_check CHECK (locale IN ('en', 'fr'));
