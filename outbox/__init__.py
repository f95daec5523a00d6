"""The outbox: every message to a user other than the direct reply to their own update.

`domain.notices.Notice` says what to tell whom; a use case writes it to the `outbox` table in
the transaction of its change (`db.repositories.outbox.OutboxRepo.add`); `outbox.sender.OutboxSender`
claims due rows after the commit, renders each in the recipient's language at send time
(`outbox.render`) and delivers it, honouring Telegram's limits. See `outbox.sender` for the
delivery guarantees.
"""
