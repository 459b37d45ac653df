"""One module per user operation, over the runtime layer.

Operations that change a database (migrate, rollback, restore, db-create, and the FABER phases that
apply) are `workflow.GuardedOperation`s: they supply their read, plan, apply and verify steps and
their result details, and `workflow.run_guarded` runs them in the one guarded order. `commands/`
only turns command-line arguments into an operation's options.
"""
