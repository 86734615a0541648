"""Cross-cutting pieces every area uses: database base, time, i18n, permissions, errors, audit."""
