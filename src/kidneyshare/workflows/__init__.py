"""The scheme's processes, built from the layers below (shared/DESIGN.md): a matching
run under the scheme's policy, recourse when a crossmatch fails or someone withdraws,
and the care that follows every donor. docs/workflows.md describes them."""
