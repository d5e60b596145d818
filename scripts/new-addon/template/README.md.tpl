# @cap/__NAME__ — __TITLE__

A Clockify add-on on the platform's SDK (`@cap/addon`), made by `npm run new-addon -- __NAME__`.
It records every new and deleted project of a workspace in a table of its own
(`__SNAKE___project_events`, created by its migration), keeps the projects in the platform's
mirror, and lists the latest events on a sidebar page (`/ui/__NAME__`).

- `src/addon.ts`: the whole add-on: metadata, scopes, the setting, the migration, the page, and
  one handler per event.
- `test/addon.test.ts`: the handlers run by `@cap/testing/addon`'s HandlerHarness.

Commands (from this folder): `npm run build`, `npm run typecheck`, `npm run lint`, `npm test`.
To run it, import `addon` from `@cap/__NAME__` in the entry points instead of the example
(see WRITING_AN_ADDON.md at the repository root, "Running your add-on").
