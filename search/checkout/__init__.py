"""The live re-check of a cart against the merchants: ``live`` (the check), ``rate`` (per-merchant budget),
``links`` (checkout links, built by aisle, never copied from merchant data)."""
