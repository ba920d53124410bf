Attribute VB_Name = "xlplan"
Option Explicit
' The buttons of the planbok and the region workbook. Each macro calls xlplan in
' Python through xlwings RunPython (the xlwings module in this workbook, BSD licence).
' Install Python and xlplan on the PC with: pip install xlplan

Sub Validera()
    RunPython "import xlplan.excel; xlplan.excel.validera()"
End Sub

Sub Berakna()
    RunPython "import xlplan.excel; xlplan.excel.berakna()"
End Sub

Sub Skicka()
    RunPython "import xlplan.excel; xlplan.excel.skicka()"
End Sub

Sub Konsolidera()
    RunPython "import xlplan.excel; xlplan.excel.konsolidera()"
End Sub
