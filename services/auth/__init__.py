"""The auth service: customers, addresses, sessions, OTPs, admin users, roles, audit log.

Layers (outside in):
  servicer.py      gRPC servicers: protos <-> handler calls, nothing else
  handlers/        the service layer: one function per use case, one unit of work each
  domain/          plain-Python rules (validation, OTP policy, RBAC), no I/O
  repository.py    SQLAlchemy repositories hiding queries from the handlers
  models.py        SQLAlchemy tables (changed only through migrations/)
  tokens.py        Ed25519 signing keys (encrypted at rest), JWTs, JWKS
  passwords.py     argon2id hashing off the event loop
  otp.py           code generation, hashing and delivery (OtpSender)
  app.py           wiring: Database + ServiceApp + servicers + start-up hooks
"""
