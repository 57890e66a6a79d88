"""Structures import (FINESS files, one adapter per format), invitations of directors."""
