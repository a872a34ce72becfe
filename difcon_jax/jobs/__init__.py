"""Multi-step jobs above every other layer: train-then-evaluate, the Table 2 experiment, the learning curve."""
