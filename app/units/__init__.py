"""Administrative units: the tree every figure is sliced by."""
