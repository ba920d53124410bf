Attribute VB_Name = "xlplan"
Option Explicit
' The buttons of the planbok and the region workbook. Each macro runs a handler of
' xlplan.excel in Python:
' - through xlplan serve when the hidden sheet xlwings.conf names XLPLAN_SERVER: xlwings'
'   RunServerPython (module Remote) posts the workbook to {XLPLAN_SERVER}/{handler} with
'   "Authorization: Bearer <nyckel>"; no process is started on this PC;
' - otherwise through xlwings' RunPython (module xlwings): Python and xlplan on this PC,
'   installed with: python -m pip install xlplan
' The status bar says what runs; a missing Python, a missing xlplan or another version
' than the workbook's (XLPLAN_VERSION in xlwings.conf) gives a dialog, not a VBA error.

Sub Validera()
    CallHandler "validera", "xlplan validerar planboken ..."
End Sub

Sub Berakna()
    CallHandler "berakna", "xlplan beräknar sammanfattningen ..."
End Sub

Sub Skicka()
    CallHandler "skicka", "xlplan validerar och skickar planboken ..."
End Sub

Sub Konsolidera()
    CallHandler "konsolidera", "xlplan konsoliderar inkorgen ..."
End Sub

Sub GlomServernyckel()
    ' Forget the server key saved for this user (e.g. after a new key from IT).
    On Error Resume Next
    DeleteSetting "xlplan", "server", "token"
    MsgBox "Nyckeln är borttagen. Du får ange den nya nästa gång du trycker på en knapp.", _
           vbInformation, "xlplan"
End Sub

Private Sub CallHandler(handler As String, status As String)
    Dim server As String, token As String
    On Error GoTo Failed
    Application.StatusBar = status
    server = GetConfig("XLPLAN_SERVER", "")
    If server <> "" Then
        token = ServerToken()
        If token <> "" Then
            Application.Run "RunServerPython", server & "/" & handler, "Bearer " & token
        End If
    ElseIf PythonReady() Then
        RunPython "import xlplan.excel; xlplan.excel." & handler & "()"
    End If
    Application.StatusBar = False
    Exit Sub
Failed:
    Application.StatusBar = False
    MsgBox "xlplan kunde inte köras: " & Err.Description & vbCrLf & vbCrLf & _
           "Kontrollera att Python och xlplan är installerade (python -m pip install xlplan) " & _
           "eller, med server, att adressen i bladet xlwings.conf stämmer.", vbExclamation, "xlplan"
End Sub

Private Function ServerToken() As String
    ' The key for xlplan serve: the variable XLPLAN_TOKEN, else the key saved for this user
    ' (VBA SaveSetting), else asked for once. It is never stored in the workbook.
    ServerToken = Environ("XLPLAN_TOKEN")
    If ServerToken = "" Then ServerToken = GetSetting("xlplan", "server", "token", "")
    If ServerToken = "" Then
        ServerToken = InputBox("Ange din nyckel till xlplan-servern (du får den av " & _
                               "ekonomienheten). Den sparas för din användare på den här datorn.", _
                               "xlplan")
        If ServerToken <> "" Then SaveSetting "xlplan", "server", "token", ServerToken
    End If
End Function

Private Function PythonReady() As Boolean
    ' Windows: ask the configured interpreter for xlplan's version before RunPython starts it.
    ' On a Mac, RunPython reports a missing interpreter itself.
    #If Mac Then
        PythonReady = True
    #Else
        Dim interpreter As String, wanted As String, found As String, probe As Object
        interpreter = GetConfig("INTERPRETER_WIN", "")
        If interpreter = "" Then interpreter = GetConfig("INTERPRETER", "python")
        wanted = GetConfig("XLPLAN_VERSION", "")
        On Error GoTo NoPython
        Set probe = CreateObject("WScript.Shell").Exec("""" & interpreter & _
            """ -c ""import xlplan; print(xlplan.__version__)""")
        found = Trim(Replace(Replace(probe.StdOut.ReadAll, vbCr, ""), vbLf, ""))
        On Error GoTo 0
        If found = "" Then
            MsgBox "xlplan är inte installerat för Python (" & interpreter & ")." & vbCrLf & _
                   "Installera det i ett kommandofönster: python -m pip install xlplan==" & wanted, _
                   vbExclamation, "xlplan"
        ElseIf wanted <> "" And found <> wanted Then
            MsgBox "Arbetsboken är gjord för xlplan " & wanted & " men datorn har xlplan " & _
                   found & "." & vbCrLf & "Installera rätt version: python -m pip install xlplan==" & _
                   wanted, vbExclamation, "xlplan"
        Else
            PythonReady = True
        End If
        Exit Function
NoPython:
        MsgBox "Python hittades inte på datorn (" & interpreter & ")." & vbCrLf & _
               "Installera Python från python.org och sedan i ett kommandofönster: " & _
               "python -m pip install xlplan", vbExclamation, "xlplan"
    #End If
End Function
