"""FHIR R4 export of a patient's merged record (R4B models of fhir.resources, validated on build)."""

from medspeak.fhir.bundle import DocumentInfo, EncounterInfo, ExportFailed, PatientInfo, build_bundle

__all__ = ["DocumentInfo", "EncounterInfo", "ExportFailed", "PatientInfo", "build_bundle"]
