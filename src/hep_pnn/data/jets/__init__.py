"""Jets for substructure taggers: top vs QCD jets in the layout of the public top-tagging
reference data set (Kasieczka et al., arXiv:1902.09914).

Pythia 8 and FastJet (GPL) are imported only by the generator module, lazily; readers,
representations and models never import them.
"""
