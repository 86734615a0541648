"""Attendance: classes (培训班) and their sessions (课次), rosters, check-in and check-out,
leave requests, the status and minutes of each person at each session, and the training
survey (培训效果调查表)."""
