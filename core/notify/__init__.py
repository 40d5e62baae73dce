"""Notifications: the outbox (送信トレイ), its mail templates, reminders and the sender.

- events.py     the events that write mail, each with the placeholders its templates may use
- templates.py  data/templates/<scheme>.toml's [mail.<event>] sections, checked and rendered
- outbox.py     writing outbox rows set-based, in the transaction of the event (outbox.write)
- reminders.py  reminders scheduled as configuration per scheme (`<scheme>.reminders`)
- course_mail.py  a reservation received (with its waitlist place) and a promotion, for the
                 course rosters to call in the reservation's transaction
- smtp.py       where mail goes (RENEWAL_SMTP_* or .streamlit/secrets.toml) and how it is built
- sender.py     `send-mail`: every pending row delivered once, under its own Message-ID
- tray.py       what the 送信トレイ page reads: rows, counts per day, resends

An event with no template for a scheme writes no mail for it: which events a body mails is
data. A silent case (a JPTEC non-card request refused at intake) has no producer at all.
"""
