"""Protocol mutants of a carrier and the campaign that runs the suite against each
(docs/conformance.md, "Mutation campaign")."""
