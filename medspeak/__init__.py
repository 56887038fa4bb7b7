"""medspeak: make medical records speak.

The core package of the clinical decision-support dashboard. It never imports
streamlit: the pages, the API and the CLI all call the same services here.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
