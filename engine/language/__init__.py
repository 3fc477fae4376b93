"""The rule language: expression nodes (`nodes`), their parser (`parser`), a `visitor` base, the
type checker (`typecheck`), and problems with their places (`problems`)."""
