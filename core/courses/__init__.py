"""Courses and their rosters, for every scheme that runs courses (seed 004's university
renewal courses, JPTEC provider renewal courses, JSPO mandatory trainings).

This package owns:
- the catalogue (catalogue.py): a course's facts, recruitment periods, capacity and minimum
  to open, created and edited by `import courses` or the app's form, every change audited;
- seats (seats.py): the one way a seat is given or freed — reservations, the waitlist and its
  automatic promotions, never one person too many and never a seat left empty while someone
  waits, also with many writers at the same moment;
- reservations (enrolment.py): first come first served, the refusals, cancellations and
  withdrawals, the signed application form, transfers out of a course not opened;
- the daily job (daily.py): late forms, unpaid invoices, courses under their minimum;
- results (results.py): attendance, lateness, exam scores and re-exams, and the completions
  that become the activities the renewal rules already count;
- what the pages read (roster.py) and the course documents (core/documents/courses.py).

Each scheme's part (the activity a completion becomes, the form's days, the minimum, the
lateness limit, the pass mark) is its `course_policy` in core.schemes.
"""
