"""The customer's side of the interface (issue 10).

`conformance client` acts as the carrier and pushes (§2.7 / §2.8) to a customer's
receiver; `conformance proxy` sits between a customer's platform and a carrier and
judges every request the customer makes. Their checks join the catalogue under the
categories `receiver` and `client`, and their runs write the same reports.
"""
