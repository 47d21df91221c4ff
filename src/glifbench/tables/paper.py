"""The paper's reported numbers (Chapman et al., NICE 2024, Tables I and III; section IV-C)."""

TABLE1_VAL_LOSS = {
    "CNN": 0.093, "DCNN": 0.290, "CNN-RNN": 0.091, "CRNN": 0.007, "CRNN-Shallow": 0.006,
    "CNN-CRNN": 0.018, "CRNN-CNN": 0.004,
}  # fmt: skip

TABLE3_TASKS = ("mnist", "fsdd", "sot")  # the columns of the paper's Table III
# row -> (MNIST accuracy %, FSDD accuracy %, SOT MSE); "Real (CNN-RNN)" is the CNN-RNN baseline
TABLE3 = {
    "Real (CNN-RNN)": (98.9, 90.4, 0.091),
    "Real": (99.0, 98.2, 0.007),
    "HLIF": (98.2, 95.6, 0.015),
    "HIAF": (98.4, 94.3, 0.018),
    "LIF": (98.5, 93.1, 0.017),
    "IAF": (98.7, 92.7, 0.016),
    "BLI": (98.7, 97.2, 0.011),
    "BI": (98.5, 93.2, 0.013),
    "HBA": (98.5, 31.8, 0.310),
    "BA": (97.2, 48.6, 0.123),
}

ACTIVITY = {"LIF": 0.107, "BLI": 0.111}  # fraction of units active per time step (IV-C)
MNIST_RECURRENT_MS = {"HBA/BA": 0.04, "BLI": 0.78}  # mean-squared recurrent weight amplitude (IV-B)
INTEGRATORS = ("HLIF", "HIAF", "LIF", "IAF", "BLI", "BI")
NON_INTEGRATORS = ("HBA", "BA")
