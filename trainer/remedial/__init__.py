"""Remedial training (待岗培训): the case of one stood-down agent — the improvement plan they
acknowledge, the counselling talks, and the overall evaluation that ends it (reinstated, moved
to a lower post, or extended).

Its own area above learning and assessments: learning assigns the remedial track when accounts
records a stand-down (learning.remedial, pure) and counts its courses and its 上岗测试 as for any
track; what is particular to 待岗 — a plan, confidential counselling notes, an evaluation whose
outcome writes the staff record (a reinstatement, a lower post) — is a record of its own that
the records area reads into the evidence pack."""
