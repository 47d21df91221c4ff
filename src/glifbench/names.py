"""Names of tasks, architectures and unit types, importable without torch (the workflow uses them).

``glifbench.models`` and ``glifbench.units`` define the objects; tests check the names agree.
"""

TASKS = ("sot", "mnist", "fsdd")
ARCHITECTURES = ("CNN", "DCNN", "CNN-RNN", "CRNN", "CRNN-Shallow", "CNN-CRNN", "CRNN-CNN")
UNITS = ("Real", "HLIF", "HIAF", "LIF", "IAF", "BLI", "BI", "HBA", "BA")
