"""The ground floor: the records passed between stages and the error hierarchy.

Nothing here imports from any other wiredesk package; every other package may import it.
"""
