"""Certificates: issued when a track or a class is completed, snapshotted, rendered once to a
signed PDF, verified by anyone, revoked or reissued by HR, never quietly rewritten; and external
certificates agents hand in."""
