-- Origins are compared normalised: scheme and host in lowercase, no default port (80 for
-- http, 443 for https), no trailing slash. scripts/site.mjs saves them so from now on; this
-- brings sites saved before into the same form.
UPDATE sites SET allowed_origins = (
  SELECT json_group_array(
    CASE
      WHEN o LIKE 'https://%:443' THEN substr(o, 1, length(o) - 4)
      WHEN o LIKE 'http://%:80' THEN substr(o, 1, length(o) - 3)
      ELSE o
    END)
  FROM (SELECT rtrim(lower(trim(value)), '/') AS o FROM json_each(sites.allowed_origins))
);
